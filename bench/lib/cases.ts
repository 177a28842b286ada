/**
 * The cases one `pnpm bench` run measures, in the order they are printed.
 * Shared by the runner (which plans, filters and reports) and the measuring
 * client (which opens the matching adapter), so both agree on the ids.
 */

/**
 * What a case is for in the report: procwire itself, a JavaScript floor it
 * is held against, a peer library, or a C program showing the physical
 * limit of a mechanism (bench/c/).
 */
export type CaseRole = 'procwire' | 'floor' | 'peer' | 'limit';

/** Both processes on CPU 0, or free to use every CPU. */
export type Mode = 'pinned' | 'unpinned';

export interface CaseInfo {
  /** Stable id, also what `--only` matches (lib/args.ts `selects`). */
  readonly id: string;
  readonly library: string;
  /** Transport as printed in the table. */
  readonly transport: string;
  readonly role: CaseRole;
  /**
   * For procwire cases: the raw floor measured over the same OS mechanism,
   * so a ratio compares like with like.
   */
  readonly floor?: string;
  /** Also measures one-way throughput of 1 MiB binary payloads (GB/s). */
  readonly bytes?: boolean;
  /** Modes it runs in (default both): a one-process C baseline has nothing to pin against. */
  readonly modes?: readonly Mode[];
  /** C baselines: the program in bench/c/ (without .c). */
  readonly program?: string;
  /** Arguments of a program that does not take the ping-pong plan (memcpy). */
  readonly programArgs?: readonly string[];
}

export const CASES: readonly CaseInfo[] = [
  { id: 'procwire/unix', library: 'procwire', transport: 'unix', role: 'procwire', floor: 'raw/unix', bytes: true },
  { id: 'procwire/tcp', library: 'procwire', transport: 'tcp', role: 'procwire', floor: 'raw/tcp' },
  { id: 'procwire/socketpair', library: 'procwire', transport: 'socketpair', role: 'procwire', floor: 'raw/socketpair' },
  // No raw Node floor exists for these mechanisms (Node cannot make pipes,
  // FIFOs or message queues by itself): they are held against the Unix socket floor.
  { id: 'procwire/pipe', library: 'procwire', transport: 'pipe', role: 'procwire', floor: 'raw/unix' },
  { id: 'procwire/fifo', library: 'procwire', transport: 'fifo', role: 'procwire', floor: 'raw/unix' },
  { id: 'procwire/mq', library: 'procwire', transport: 'mq', role: 'procwire', floor: 'raw/unix' },
  // Shared-memory rings: the spin policy polls up to 50 µs before sleeping, the sleep policy sleeps at once.
  { id: 'procwire/shm', library: 'procwire', transport: 'shm spin', role: 'procwire', floor: 'raw/unix', bytes: true },
  { id: 'procwire/shm-sleep', library: 'procwire', transport: 'shm sleep', role: 'procwire', floor: 'raw/unix' },
  // What validation costs: the same cases with `validate: false` on client and server.
  { id: 'procwire/unix/novalidate', library: 'procwire', transport: 'unix', role: 'procwire', floor: 'raw/unix' },
  { id: 'procwire/shm/novalidate', library: 'procwire', transport: 'shm spin', role: 'procwire', floor: 'raw/unix', bytes: true },
  { id: 'raw/unix', library: 'raw msgpackr', transport: 'unix', role: 'floor', bytes: true },
  { id: 'raw/tcp', library: 'raw msgpackr', transport: 'tcp', role: 'floor' },
  { id: 'raw/socketpair', library: 'raw msgpackr', transport: 'socketpair', role: 'floor' },
  { id: 'process.send/advanced', library: 'process.send', transport: 'fork advanced', role: 'peer' },
  { id: 'process.send/json', library: 'process.send', transport: 'fork json', role: 'peer' },
  { id: 'node-ipc/unix', library: 'node-ipc 9.2.1', transport: 'unix', role: 'peer' },
  { id: 'birpc-msgpackr/unix', library: 'birpc+msgpackr', transport: 'unix', role: 'peer' },
  { id: 'birpc-json/unix', library: 'birpc+JSON', transport: 'unix', role: 'peer' },
  // The physical limits, in C (bench/c/, compiled by the runner with cc -O2).
  { id: 'c/ring', library: 'C', transport: 'shm ring, spin', role: 'limit', program: 'ring' },
  { id: 'c/futex', library: 'C', transport: 'futex, sleep', role: 'limit', program: 'futex' },
  { id: 'c/unix', library: 'C', transport: 'unix socket', role: 'limit', program: 'unixsock' },
  {
    id: 'c/memcpy/cold',
    library: 'C',
    transport: 'memcpy cold',
    role: 'limit',
    program: 'memcpy',
    programArgs: ['cold'],
    bytes: true,
    modes: ['unpinned'],
  },
  {
    id: 'c/memcpy/warm',
    library: 'C',
    transport: 'memcpy warm',
    role: 'limit',
    program: 'memcpy',
    programArgs: ['warm'],
    bytes: true,
    modes: ['unpinned'],
  },
];

/** The floor the two headline targets are stated against. */
export const HEADLINE_PROCWIRE = 'procwire/unix';
export const HEADLINE_FLOOR = 'raw/unix';
/** The shared-memory cases the shm targets are stated for. */
export const SHM_SPIN = 'procwire/shm';
export const SHM_SLEEP = 'procwire/shm-sleep';

export function modesOf(info: CaseInfo): readonly Mode[] {
  return info.modes ?? ['pinned', 'unpinned'];
}

export function caseInfo(id: string): CaseInfo {
  const info = CASES.find((c) => c.id === id);
  if (!info) throw new Error(`unknown case ${id}`);
  return info;
}
