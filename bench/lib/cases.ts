/**
 * The cases one `pnpm bench` run measures, in the order they are printed.
 * Shared by the runner (which plans, filters and reports) and the measuring
 * client (which opens the matching adapter), so both agree on the ids.
 */

/** What a case is for in the report: procwire itself, a floor it is held against, or a peer library. */
export type CaseRole = 'procwire' | 'floor' | 'peer';

export interface CaseInfo {
  /** Stable id, also what `--only=<substring>` matches. */
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
}

export const CASES: readonly CaseInfo[] = [
  { id: 'procwire/unix', library: 'procwire', transport: 'unix', role: 'procwire', floor: 'raw/unix' },
  { id: 'procwire/tcp', library: 'procwire', transport: 'tcp', role: 'procwire', floor: 'raw/tcp' },
  { id: 'procwire/socketpair', library: 'procwire', transport: 'socketpair', role: 'procwire', floor: 'raw/socketpair' },
  // No raw Node floor exists for these mechanisms (Node cannot make pipes,
  // FIFOs or message queues by itself): they are held against the Unix socket floor.
  { id: 'procwire/pipe', library: 'procwire', transport: 'pipe', role: 'procwire', floor: 'raw/unix' },
  { id: 'procwire/fifo', library: 'procwire', transport: 'fifo', role: 'procwire', floor: 'raw/unix' },
  { id: 'procwire/mq', library: 'procwire', transport: 'mq', role: 'procwire', floor: 'raw/unix' },
  { id: 'raw/unix', library: 'raw msgpackr', transport: 'unix', role: 'floor' },
  { id: 'raw/tcp', library: 'raw msgpackr', transport: 'tcp', role: 'floor' },
  { id: 'raw/socketpair', library: 'raw msgpackr', transport: 'socketpair', role: 'floor' },
  { id: 'process.send/advanced', library: 'process.send', transport: 'fork advanced', role: 'peer' },
  { id: 'process.send/json', library: 'process.send', transport: 'fork json', role: 'peer' },
  { id: 'node-ipc/unix', library: 'node-ipc 9.2.1', transport: 'unix', role: 'peer' },
  { id: 'birpc-msgpackr/unix', library: 'birpc+msgpackr', transport: 'unix', role: 'peer' },
  { id: 'birpc-json/unix', library: 'birpc+JSON', transport: 'unix', role: 'peer' },
];

/** The floor the two headline targets are stated against. */
export const HEADLINE_PROCWIRE = 'procwire/unix';
export const HEADLINE_FLOOR = 'raw/unix';

export function caseInfo(id: string): CaseInfo {
  const info = CASES.find((c) => c.id === id);
  if (!info) throw new Error(`unknown case ${id}`);
  return info;
}
