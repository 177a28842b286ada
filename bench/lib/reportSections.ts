/**
 * The report's sections beyond the main table: 1 MiB binary payloads, the
 * idle check and the targets' verdicts.
 */
import type { CaseFigures } from './aggregate.js';
import { CASES } from './cases.js';
import { gbps, rate, table, us } from './format.js';
import type { IdleResult } from './idleCheck.js';
import { IDLE_CPU_LIMIT_MS, IDLE_SECONDS, type TargetResult } from './targets.js';

export function renderBytes(figures: ReadonlyMap<string, CaseFigures>): string[] {
  const rows: string[][] = [];
  for (const info of CASES) {
    const f = figures.get(info.id);
    if (!f || !info.bytes) continue;
    const b = f.bytes;
    const runs = b && b.runs.length > 1 ? b.runs.map((r) => gbps((r * b.size) / 1e9)).join(' ') : '';
    rows.push([
      info.id,
      b ? `${gbps(b.gbPerSec)}${b.partial ? '*' : ''}` : f.errors.length ? 'failed' : '–',
      b ? rate(b.msgsPerSec) : '–',
      runs,
    ]);
  }
  if (rows.length === 0) return [];
  return [
    'One-way 1 MiB binary payloads (unpinned), GB/s = 10^9 payload bytes/s. memcpy rows: 1 MiB / the median time of',
    'one copy in one process (cold: from and to memory far beyond the caches; warm: the same buffers, cache-resident):',
    table(['case', 'GB/s', 'payloads/s', 'sessions'], rows, 1),
    '',
  ];
}

export function renderIdle(idle: readonly IdleResult[]): string[] {
  if (idle.length === 0) return [];
  const ms = (v: number | undefined) => (v === undefined ? '?' : v.toFixed(2));
  const rows = idle.map((r) =>
    r.totalMs === undefined
      ? [r.id, r.transport, 'not measured', '', '', '', '', '']
      : [
          r.id,
          r.transport,
          ms(r.totalMs),
          ms(r.client!.runMs),
          ms(r.server!.runMs),
          `${r.client!.switches}/${r.server!.switches}`,
          `${r.client!.tickMs}/${r.server!.tickMs}`,
          `${r.settleSeconds!.toFixed(1)} s${r.settled ? '' : ' (never quiet)'}`,
        ],
  );
  const out = [
    `Idle connection: client and server connected, one call, then ${IDLE_SECONDS} s untouched (target for shm sleep: under ${IDLE_CPU_LIMIT_MS} ms).`,
    "CPU ms from every thread's /proc/PID/task/TID/schedstat (ns); utime+stime from /proc/PID/stat counts 10 ms ticks.",
    "The window opens >= 3 s after the client started, at the first second both were quiet; both run with V8's",
    '--no-memory-reducer (otherwise V8 runs up to 3 full GCs 8 s apart after start-up, 10-70 ms each: not the connection).',
    table(['check', 'transport', 'CPU ms', 'client ms', 'server ms', 'wake-ups c/s', 'utime+stime ms c/s', 'window after'], rows, 2),
  ];
  for (const r of idle) if (r.error) out.push(`  ${r.id}: ${r.error}`);
  out.push('');
  return out;
}

function measured(t: TargetResult): string {
  if (!Number.isFinite(t.value)) return '–';
  switch (t.unit) {
    // Three decimals: a ratio printed as 1.15x must not hide whether it is above or below 1.15.
    case 'x':
      return `${t.value.toFixed(3)}x`;
    case 'µs':
      return `${us(t.value)} µs`;
    case 'msgs/s':
      return `${rate(t.value)} msgs/s`;
    case 'GB/s':
      return `${gbps(t.value)} GB/s`;
    case 'ms':
      return `${t.value.toFixed(2)} ms`;
  }
}

export function renderTargets(targets: readonly TargetResult[]): string[] {
  const out = ['Targets (same-run figures; "context" = what the figure is made of and held against):'];
  for (const t of targets) {
    const verdict = t.pass === undefined ? 'NOT EVALUATED' : t.pass ? 'PASS' : 'MISS';
    out.push(`  ${verdict.padEnd(13)} ${t.statement}: ${measured(t)} (${t.detail})`);
    if (t.context) out.push(`  ${''.padEnd(13)} context: ${t.context}`);
  }
  return out;
}
