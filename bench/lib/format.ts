/** How figures are printed, shared by the report, the targets and the chart so all say the same thing. */

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** Microseconds: two decimals under 10 µs (the C rows and shm live there), one under 100. */
export const us = (v: number | undefined): string => (!finite(v) ? '–' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));

export const rate = (v: number | undefined): string => {
  if (!finite(v)) return '–';
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(v >= 1e5 ? 0 : 1)}k`;
  return v.toFixed(0);
};

export const gbps = (v: number | undefined): string => (!finite(v) ? '–' : v.toFixed(2));

export const ratio = (v: number | undefined): string => (!finite(v) ? '–' : `${v.toFixed(2)}x`);

export const sizeLabel = (size: number): string =>
  size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`;

/** "a-b" over the finite values, or '' for fewer than two. */
export function range(values: readonly number[]): string {
  const xs = values.filter(Number.isFinite);
  if (xs.length < 2) return '';
  return `${us(Math.min(...xs))}-${us(Math.max(...xs))}`;
}

/** Fixed-width columns; columns from `rightFrom` on are right-aligned (numbers). */
export function table(header: readonly string[], rows: readonly (readonly string[])[], rightFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i >= rightFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
