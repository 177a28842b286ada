/**
 * The printed report: machine, method, the main table, procwire's ratios
 * against every baseline, and the targets. Plain text with fixed columns so
 * it reads the same in a terminal, a CI log and an issue comment.
 */
import type { CaseFigures, Mode } from './aggregate.js';
import { CASES, caseInfo, HEADLINE_FLOOR } from './cases.js';
import type { MachineInfo } from './machine.js';
import { bestPeer, type TargetResult } from './targets.js';

const us = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '–' : v < 100 ? v.toFixed(1) : v.toFixed(0);

export const rate = (v: number | undefined): string => {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(v >= 1e5 ? 0 : 1)}k`;
  return v.toFixed(0);
};

const ratio = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}x`);
const sizeLabel = (size: number): string => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);

function range(values: readonly number[]): string {
  const xs = values.filter(Number.isFinite);
  if (xs.length < 2) return '';
  return `${us(Math.min(...xs))}-${us(Math.max(...xs))}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], rightFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i >= rightFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The floor a case is held against: its own transport's for procwire, the raw Unix socket otherwise. */
function floorOf(id: string): string {
  return caseInfo(id).floor ?? HEADLINE_FLOOR;
}

export interface ReportInput {
  readonly machine: MachineInfo;
  readonly pinnedAvailable: boolean;
  readonly repeats: number;
  readonly quick: boolean;
  readonly sizes: readonly number[];
  readonly figures: ReadonlyMap<string, CaseFigures>;
  readonly targets: readonly TargetResult[];
  readonly seconds: number;
  /** One line saying how many calls and bursts each session ran. */
  readonly planSummary: string;
}

export function renderReport(input: ReportInput): string {
  const { machine, figures, sizes } = input;
  const out: string[] = [];
  out.push('procwire benchmark');
  out.push(`machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB; ${machine.kernel}; node ${machine.node} (${machine.platform})`);
  out.push(`run: ${machine.date}, ${input.quick ? 'quick, ' : ''}${input.repeats} session(s) per case and mode, ${input.seconds.toFixed(0)} s; load average before: ${machine.loadAverage.join(' ')}`);
  out.push('');
  out.push('Method: every case is two processes (the client measures; the server is its child). A round trip');
  out.push('is one echo of {i, s} (s = a string of the payload size), one call in flight. "pinned" = both');
  out.push(`processes on CPU 0 (taskset -c 0${input.pinnedAvailable ? '' : ' — NOT AVAILABLE here, pinned rows ran unpinned'}); "unpinned" = both vCPUs, where round trips`);
  out.push('jump between two levels, so compare on pinned figures. One-way msgs/s is measured unpinned (2 CPUs):');
  out.push('the server sends a burst as fast as it can (yielding every ~64 KiB, never waiting for drain) and the');
  out.push('client counts decoded messages (for procwire: validated). Figures are medians over sessions of each');
  out.push("session's p50/p99 (or of each session's median burst); [a-b] is the spread of session p50s.");
  out.push(input.planSummary);
  out.push('');
  out.push('Cases:');
  out.push('  procwire        zod validation on at both ends; round trip = client.rpc.echo(); one-way = server.emit()');
  out.push('                  of an event the client validates; unix:, tcp:, fifo:, mq: (connect), socketpair:, pipe: (spawn)');
  out.push('  raw msgpackr    the floor: net socket, 4-byte length prefix, msgpackr pack/unpack, one write() per');
  out.push('                  message, decode on \'data\' (Node itself may flush queued writes as one writev)');
  out.push('  process.send    child_process.fork() IPC channel, serialization \'advanced\' or \'json\'');
  out.push('  node-ipc 9.2.1  connectTo/emit over a Unix socket (JSON text, \'\\f\'-delimited), silent');
  out.push('  birpc           birpc 4.2 over a Unix socket with the floor\'s length prefix; msgpackr or JSON;');
  out.push('                  one-way = $callEvent (no response)');
  out.push('');

  const header = ['case', 'transport', 'size', 'pin p50', 'pin p99', 'unpin p50', '[spread]', 'unpin p99', 'msgs/s', 'p50/floor', 'floor'];
  const rows: string[][] = [];
  for (const info of CASES) {
    const f = figures.get(info.id);
    if (!f) continue;
    for (const size of sizes) {
      const pin = f.latency.pinned[size];
      const free = f.latency.unpinned[size];
      const floorId = floorOf(info.id);
      const floorP50 = figures.get(floorId)?.latency.pinned[size]?.p50;
      const t = f.throughput[size];
      rows.push([
        info.library,
        info.transport,
        sizeLabel(size),
        us(pin?.p50),
        us(pin?.p99),
        us(free?.p50),
        free && range(free.p50s) ? `[${range(free.p50s)}]` : '',
        us(free?.p99),
        t ? `${rate(t.msgsPerSec)}${t.partial ? '*' : ''}` : '–',
        info.id === floorId ? '1.00x' : ratio(pin && floorP50 !== undefined ? pin.p50 / floorP50 : undefined),
        info.id === floorId ? '(itself)' : floorId,
      ]);
    }
  }
  out.push('Round trip, µs (p50/p99), and one-way throughput:');
  out.push(table(header, rows, 3));
  if ([...figures.values()].some((f) => Object.values(f.throughput).some((t) => t.partial))) {
    out.push('* some burst hit the time limit; the rate is what arrived in that time.');
  }
  if (figures.has('node-ipc/unix')) {
    out.push("node-ipc's receiver re-scans its whole buffered text on every chunk until a chunk happens to end on a");
    out.push("delimiter, so under a sustained burst its rate falls as the burst grows (4 KiB especially).");
  }
  out.push('');

  out.push(...renderRatios(figures, sizes));
  out.push('');

  out.push('Targets:');
  for (const t of input.targets) {
    const verdict = t.pass === undefined ? 'NOT EVALUATED' : t.pass ? 'PASS' : 'MISS';
    // Three decimals: a ratio printed as 1.15x must not hide whether it is above or below 1.15.
    const exact = Number.isFinite(t.ratio) ? `${t.ratio.toFixed(3)}x` : '–';
    out.push(`  ${verdict.padEnd(13)} ${t.statement}: ${exact} (${t.detail})`);
  }

  const pinnedCpus = new Set([...figures.values()].flatMap((f) => f.cpus.pinned));
  const unpinnedCpus = new Set([...figures.values()].flatMap((f) => f.cpus.unpinned));
  out.push('');
  out.push(`CPU affinity seen by client/server: pinned ${[...pinnedCpus].join(', ') || '–'}; unpinned ${[...unpinnedCpus].join(', ') || '–'}`);
  const errors = [...figures.values()].flatMap((f) => f.errors.map((e) => `${f.info.id}: ${e}`));
  if (errors.length) {
    out.push('');
    out.push('Errors:');
    for (const e of errors) out.push(`  ${e}`);
  }
  return out.join('\n');
}

function renderRatios(figures: ReadonlyMap<string, CaseFigures>, sizes: readonly number[]): string[] {
  const baselines = CASES.filter((c) => c.role !== 'procwire' && figures.has(c.id));
  const procwires = CASES.filter((c) => c.role === 'procwire' && figures.has(c.id));
  if (baselines.length === 0 || procwires.length === 0) return [];
  const out: string[] = [];
  const header = ['procwire', 'size', ...baselines.map((b) => b.id)];
  const throughputHeader = [...header, 'best peer'];
  const latency: string[][] = [];
  const throughput: string[][] = [];
  const pinned: Mode = 'pinned';
  for (const p of procwires) {
    for (const size of sizes) {
      const pw = figures.get(p.id)!;
      latency.push([
        p.transport,
        sizeLabel(size),
        ...baselines.map((b) => {
          const base = figures.get(b.id)!.latency[pinned][size]?.p50;
          const mine = pw.latency[pinned][size]?.p50;
          return ratio(mine !== undefined && base !== undefined ? mine / base : undefined);
        }),
      ]);
      throughput.push([
        p.transport,
        sizeLabel(size),
        ...baselines.map((b) => {
          const base = figures.get(b.id)!.throughput[size]?.msgsPerSec;
          const mine = pw.throughput[size]?.msgsPerSec;
          return ratio(mine !== undefined && base !== undefined ? mine / base : undefined);
        }),
        ratio((pw.throughput[size]?.msgsPerSec ?? Number.NaN) / (bestPeer(figures, size)?.msgsPerSec ?? Number.NaN)),
      ]);
    }
  }
  out.push('procwire against each baseline — pinned p50 round trip, procwire / baseline (below 1.00x: procwire is faster):');
  out.push(table(header, latency, 2));
  out.push('');
  out.push('procwire against each baseline — one-way msgs/s, procwire / baseline (above 1.00x: procwire is faster):');
  out.push(table(throughputHeader, throughput, 2));
  const bests = sizes.map((size) => {
    const best = bestPeer(figures, size);
    return `${sizeLabel(size)}: ${best ? `${best.id} ${rate(best.msgsPerSec)}` : '–'}`;
  });
  out.push(`best peer one-way: ${bests.join('; ')}`);
  return out;
}
