/**
 * The printed report: machine, method, the main table, procwire's ratios
 * against every baseline, 1 MiB payloads, the idle check and the targets.
 * Plain text with fixed columns so it reads the same in a terminal, a CI
 * log and an issue comment.
 */
import type { CaseFigures } from './aggregate.js';
import { CASES, caseInfo, HEADLINE_FLOOR } from './cases.js';
import { range, rate, ratio, sizeLabel, table, us } from './format.js';
import type { IdleResult } from './idleCheck.js';
import type { MachineInfo } from './machine.js';
import { renderRatios } from './reportRatios.js';
import { renderBytes, renderIdle, renderTargets } from './reportSections.js';
import type { TargetResult } from './targets.js';

/** A 1-minute load average from which the report warns that other work disturbed the run. */
const BUSY_LOAD = 1;

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
  readonly idle: readonly IdleResult[];
  readonly seconds: number;
  /** One line saying how many calls and bursts each session ran. */
  readonly planSummary: string;
}

const METHOD = [
  'Method: every case is two processes (the client measures; the server is its child). A round trip',
  'is one echo of {i, s} (s = a string of the payload size), one call in flight. "pinned" = both',
  'processes on CPU 0 (taskset -c 0); "unpinned" = both vCPUs, where round trips',
  'jump between two levels, so compare on pinned figures. One-way msgs/s is measured unpinned (2 CPUs):',
  'the server sends a burst as fast as it can (yielding every ~64 KiB, never waiting for drain) and the',
  'client counts decoded messages (for procwire: validated). Figures are medians over sessions of each',
  "session's p50/p99 (or of each session's median burst); [a-b] is the spread of session p50s.",
];

const CASE_NOTES = [
  'Cases:',
  '  procwire        zod validation on at both ends; round trip = client.rpc.echo(); one-way = server.emit()',
  '                  of an event the client validates; unix:, tcp:, fifo:, mq:, shm: (connect), socketpair:,',
  '                  pipe: (spawn). shm spin = ?wait=spin&spinMicros=50, shm sleep = ?wait=sleep.',
  '  …/novalidate    the same with validate: false on client and server (what validation costs)',
  '  raw msgpackr    the floor: net socket, 4-byte length prefix, msgpackr pack/unpack, one write() per',
  "                  message, decode on 'data' (Node itself may flush queued writes as one writev)",
  "  process.send    child_process.fork() IPC channel, serialization 'advanced' or 'json'",
  "  node-ipc 9.2.1  connectTo/emit over a Unix socket (JSON text, '\\f'-delimited), silent",
  "  birpc           birpc 4.2 over a Unix socket with the floor's length prefix; msgpackr or JSON;",
  '                  one-way = $callEvent (no response)',
  '  C (bench/c/)    the physical limits, cc -O2, two processes (fork): ring = two SPSC rings in shared',
  '                  memory, peers poll (on one CPU they yield instead); futex = futex word ping-pong,',
  '                  peers sleep; unix socket = socketpair, length prefix, blocking reads; no serialization',
];

function mainTable(figures: ReadonlyMap<string, CaseFigures>, sizes: readonly number[]): string[] {
  const header = ['case', 'transport', 'size', 'pin p50', 'pin p99', 'unpin p50', '[spread]', 'unpin p99', 'msgs/s', 'p50/floor', 'floor'];
  const rows: string[][] = [];
  for (const info of CASES) {
    const f = figures.get(info.id);
    // memcpy has neither a round trip nor a message rate: it is in the 1 MiB table.
    if (!f || info.programArgs) continue;
    for (const size of sizes) {
      const pin = f.latency.pinned[size];
      const free = f.latency.unpinned[size];
      const floorId = floorOf(info.id);
      const floorP50 = figures.get(floorId)?.latency.pinned[size]?.p50;
      const t = f.throughput[size];
      const failed = !pin && !free && !t && f.errors.length > 0;
      rows.push([
        info.library,
        info.id.startsWith('procwire/') ? info.id.slice('procwire/'.length) : info.transport,
        sizeLabel(size),
        us(pin?.p50),
        us(pin?.p99),
        us(free?.p50),
        free && range(free.p50s) ? `[${range(free.p50s)}]` : '',
        us(free?.p99),
        t ? `${rate(t.msgsPerSec)}${t.partial ? '*' : ''}` : '–',
        info.id === floorId ? '1.00x' : ratio(pin && floorP50 !== undefined ? pin.p50 / floorP50 : undefined),
        failed ? 'FAILED (see Errors)' : info.id === floorId ? '(itself)' : floorId,
      ]);
    }
  }
  const out = ['Round trip, µs (p50/p99), and one-way throughput:', table(header, rows, 3)];
  if ([...figures.values()].some((f) => Object.values(f.throughput).some((t) => t.partial) || f.bytes?.partial)) {
    out.push('* some burst hit the time limit; the rate is what arrived in that time.');
  }
  if (figures.has('node-ipc/unix')) {
    out.push("node-ipc's receiver re-scans its whole buffered text on every chunk until a chunk happens to end on a");
    out.push('delimiter, so under a sustained burst its rate falls as the burst grows (4 KiB especially).');
  }
  out.push('');
  return out;
}

export function renderReport(input: ReportInput): string {
  const { machine, figures, sizes } = input;
  const out: string[] = [];
  out.push('procwire benchmark');
  out.push(
    `machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB; ${machine.kernel}; node ${machine.node} (${machine.platform})`,
  );
  out.push(
    `run: ${machine.date}, ${input.quick ? 'quick, ' : ''}${input.repeats} session(s) per case and mode, ${input.seconds.toFixed(0)} s; load average before: ${machine.loadAverage.join(' ')}`,
  );
  if (!input.pinnedAvailable) out.push('WARNING: taskset is not available here: the "pinned" rows ran unpinned.');
  // Polling peers (shm spin, the C ring) and every unpinned figure need idle CPUs; a busy machine skews them most.
  if ((machine.loadAverage[0] ?? 0) >= BUSY_LOAD) {
    out.push(
      `WARNING: the machine was busy before the run (load average ${machine.loadAverage[0]}): figures, polling cases most, are disturbed.`,
    );
  }
  out.push('');
  out.push(...METHOD);
  if (input.planSummary) out.push(input.planSummary);
  out.push('');
  out.push(...CASE_NOTES);
  out.push('');
  out.push(...mainTable(figures, sizes));
  out.push(...renderRatios(figures, sizes));
  out.push(...renderBytes(figures));
  out.push(...renderIdle(input.idle));
  out.push(...renderTargets(input.targets));

  const pinnedCpus = new Set([...figures.values()].flatMap((f) => f.cpus.pinned));
  const unpinnedCpus = new Set([...figures.values()].flatMap((f) => f.cpus.unpinned));
  out.push('');
  out.push(
    `CPU affinity seen by client/server: pinned ${[...pinnedCpus].join(', ') || '–'}; unpinned ${[...unpinnedCpus].join(', ') || '–'}`,
  );
  const errors = [...figures.values()].flatMap((f) => f.errors.map((e) => `${f.info.id}: ${e}`));
  if (errors.length) {
    out.push('');
    out.push('Errors (these rows are not measured):');
    for (const e of errors) out.push(`  ${e}`);
  }
  return out.join('\n');
}
