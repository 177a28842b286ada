/**
 * The chart `pnpm bench` writes next to its results (bench/results/chart.svg,
 * and bench/chart.svg with --publish, the copy the README shows): horizontal
 * bars of every measured case, coloured by role (procwire, the JavaScript
 * floor, peer libraries, the C limits), with their values written out and
 * the machine and date in the caption. Hand-written SVG: no dependency, and
 * the file diffs as text.
 */
import type { CaseFigures } from './aggregate.js';
import { CASES, type CaseInfo, type CaseRole } from './cases.js';
import { gbps, rate, us } from './format.js';
import type { MachineInfo } from './machine.js';
import { SHM_GBPS, SHM_P50_LIMIT_US, SHM_RATE } from './targets.js';

const SIZE = 64;
const WIDTH = 980;
const LABEL_W = 230;
const BAR_W = 600;
const BAR_H = 9;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const COLORS: Record<CaseRole, string> = { procwire: '#2563eb', floor: '#475569', peer: '#ea580c', limit: '#16a34a' };
const ROLE_NAMES: Record<CaseRole, string> = { procwire: 'procwire', floor: 'raw Node floor', peer: 'JavaScript peers', limit: 'C limits' };

export interface ChartInput {
  readonly machine: MachineInfo;
  readonly figures: ReadonlyMap<string, CaseFigures>;
  readonly quick: boolean;
  readonly only: readonly string[];
  readonly repeats: number;
}

interface Bar {
  readonly value: number | undefined;
  /** Lighter bar: the second figure of a row (unpinned). */
  readonly light?: boolean;
}

interface Row {
  readonly info: CaseInfo;
  readonly bars: readonly Bar[];
}

interface Panel {
  readonly title: string;
  readonly rows: readonly Row[];
  readonly scale: 'log' | 'linear';
  readonly format: (v: number) => string;
  /** A target drawn as a dashed line across the bars. */
  readonly target?: { readonly value: number; readonly label: string };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;

/** Maps a value to a bar length; log scales span whole decades so the gridlines fall on 1, 10, 100… */
function scaleOf(panel: Panel): { x: (v: number) => number; ticks: number[] } {
  const values = [...panel.rows.flatMap((r) => r.bars.map((b) => b.value)), panel.target?.value].filter(finite);
  if (values.length === 0) return { x: () => 0, ticks: [] };
  if (panel.scale === 'log') {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)) + 1e-9);
    const span = Math.log10(hi) - Math.log10(lo) || 1;
    const ticks: number[] = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
    // A bar for `lo` itself still shows a sliver.
    return { x: (v) => Math.max(2, ((Math.log10(v) - Math.log10(lo)) / span) * BAR_W), ticks };
  }
  const max = Math.max(...values) * 1.05;
  const step = 10 ** Math.floor(Math.log10(max / 2));
  const nice = [1, 2, 5].map((m) => m * step).find((s) => max / s <= 8) ?? step * 10;
  const top = Math.ceil(max / nice) * nice;
  const ticks: number[] = [];
  for (let t = 0; t <= top + 1e-9; t += nice) ticks.push(t);
  return { x: (v) => Math.max(2, (v / top) * BAR_W), ticks };
}

function tickLabel(panel: Panel, t: number): string {
  if (panel.scale === 'linear') return String(Math.round(t * 100) / 100);
  return t >= 1e6 ? `${t / 1e6}M` : t >= 1e3 ? `${t / 1e3}k` : String(t);
}

/** Draws one panel at vertical offset `y`; returns the SVG and the height used. */
function drawPanel(panel: Panel, y: number): { svg: string[]; height: number } {
  const svg: string[] = [];
  const { x, ticks } = scaleOf(panel);
  const rowH = panel.rows.some((r) => r.bars.length > 1) ? 2 * BAR_H + 8 : BAR_H + 9;
  const top = y + 36;
  const height = 36 + panel.rows.length * rowH + 22;
  svg.push(`<text x="16" y="${y + 14}" font-size="14" font-weight="600" ${FONT}>${esc(panel.title)}</text>`);
  for (const t of ticks) {
    const gx = LABEL_W + x(t);
    svg.push(`<line x1="${gx.toFixed(1)}" y1="${top - 4}" x2="${gx.toFixed(1)}" y2="${top + panel.rows.length * rowH}" stroke="#e5e7eb"/>`);
    svg.push(
      `<text x="${gx.toFixed(1)}" y="${top + panel.rows.length * rowH + 14}" font-size="10" fill="#6b7280" text-anchor="middle" ${FONT}>${esc(tickLabel(panel, t))}</text>`,
    );
  }
  if (panel.target && ticks.length) {
    const tx = (LABEL_W + x(panel.target.value)).toFixed(1);
    const bottom = top + panel.rows.length * rowH;
    svg.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    svg.push(`<text x="${tx}" y="${top - 8}" font-size="10" fill="#dc2626" text-anchor="middle" ${FONT}>${esc(panel.target.label)}</text>`);
  }
  panel.rows.forEach((row, k) => {
    const ry = top + k * rowH;
    const color = COLORS[row.info.role];
    svg.push(`<text x="${LABEL_W - 8}" y="${ry + rowH / 2 + 3}" font-size="11" text-anchor="end" ${FONT}>${esc(row.info.id)}</text>`);
    if (!row.bars.some((b) => finite(b.value))) {
      svg.push(
        `<text x="${LABEL_W + 4}" y="${ry + rowH / 2 + 3}" font-size="11" fill="#9ca3af" font-style="italic" ${FONT}>not measured</text>`,
      );
      return;
    }
    row.bars.forEach((bar, j) => {
      const by = ry + 2 + j * (BAR_H + 2);
      if (!finite(bar.value)) return;
      const w = x(bar.value);
      svg.push(
        `<rect x="${LABEL_W}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${color}"${bar.light ? ' fill-opacity="0.4"' : ''}/>`,
      );
      svg.push(
        `<text x="${(LABEL_W + w + 4).toFixed(1)}" y="${by + BAR_H - 1}" font-size="10" fill="#374151" ${FONT}>${esc(panel.format(bar.value))}</text>`,
      );
    });
  });
  return { svg, height };
}

function panels(figures: ReadonlyMap<string, CaseFigures>): Panel[] {
  const measured = CASES.filter((c) => figures.has(c.id));
  const all: Panel[] = [
    {
      title: `Round trip, p50 (${SIZE} B), µs, log scale; shorter is faster. Solid: pinned to one CPU; light: unpinned`,
      scale: 'log',
      format: (v) => `${us(v)} µs`,
      target: { value: SHM_P50_LIMIT_US, label: `shm spin target ≤ ${SHM_P50_LIMIT_US} µs` },
      rows: measured
        .filter((c) => !c.programArgs)
        .map((info) => {
          const f = figures.get(info.id)!;
          return { info, bars: [{ value: f.latency.pinned[SIZE]?.p50 }, { value: f.latency.unpinned[SIZE]?.p50, light: true }] };
        }),
    },
    {
      title: `One-way throughput (${SIZE} B), messages/s, unpinned, log scale; longer is faster`,
      scale: 'log',
      format: (v) => rate(v),
      target: { value: SHM_RATE, label: `shm spin target ≥ ${rate(SHM_RATE)}` },
      // Cases that never measure a message rate (the futex ping-pong, memcpy) are left out rather than shown as missing.
      rows: measured
        .filter((c) => !c.programArgs && c.id !== 'c/futex')
        .map((info) => ({ info, bars: [{ value: figures.get(info.id)!.throughput[SIZE]?.msgsPerSec }] })),
    },
    {
      title: 'One-way 1 MiB binary payloads, GB/s, unpinned; longer is faster (memcpy: one process copying 1 MiB)',
      scale: 'linear',
      format: (v) => `${gbps(v)} GB/s`,
      target: { value: SHM_GBPS, label: `shm spin target ≥ ${SHM_GBPS} GB/s` },
      rows: measured.filter((c) => c.bytes).map((info) => ({ info, bars: [{ value: figures.get(info.id)!.bytes?.gbPerSec }] })),
    },
  ];
  return all.filter((p) => p.rows.length > 0);
}

export function renderChart(input: ChartInput): string {
  const { machine } = input;
  const body: string[] = [];
  let y = 44;
  for (const panel of panels(input.figures)) {
    const { svg, height } = drawPanel(panel, y);
    body.push(...svg);
    y += height + 12;
  }
  // Legend under the title: one swatch per role present.
  const roles = [...new Set(CASES.filter((c) => input.figures.has(c.id)).map((c) => c.role))];
  const legend = roles.map((role, k) => {
    const lx = 16 + k * 170;
    return `<rect x="${lx}" y="26" width="12" height="10" fill="${COLORS[role]}"/><text x="${lx + 17}" y="35" font-size="11" ${FONT}>${esc(ROLE_NAMES[role])}</text>`;
  });
  const run = [
    input.quick ? 'quick run' : `${input.repeats} session(s) per case and mode, medians`,
    input.only.length ? `partial run (--only=${input.only.join(',')})` : '',
  ].filter(Boolean);
  const caption = [
    `Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB, ${machine.kernel}, node ${machine.node} (${machine.platform})`,
    `Measured ${machine.date.slice(0, 10)} by pnpm bench, all rows in the same run (load average before: ${machine.loadAverage.join(' ')}); ${run.join('; ')}.`,
  ];
  const height = y + caption.length * 16 + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="18" font-size="16" font-weight="700" ${FONT}>procwire against the raw Node floor, JavaScript peers and the C limits</text>`,
    ...legend,
    ...body,
    ...caption.map((line, k) => `<text x="16" y="${y + 6 + k * 16}" font-size="11" fill="#4b5563" ${FONT}>${esc(line)}</text>`),
    '</svg>',
    '',
  ].join('\n');
}
