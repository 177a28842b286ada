import { appendFileSync } from 'node:fs';

/**
 * One line of the hardening summary (`pnpm harden`): what a test tried and
 * how much of it ended as the limits and guarantees say.
 *
 * Hardening tests call `recordHardening` as they run; when
 * PROCWIRE_HARDEN_OUT names a file (pnpm harden sets it) each row is
 * appended to it as one JSON line, otherwise nothing is written and the
 * test's own assertions are all that count.
 */
export interface HardeningRow {
  /** Catalogue section: 'bad input', 'property', 'faults', 'load', 'access', 'limits'. */
  readonly section: string;
  /** What was tried, e.g. 'mutation sweep over unix (path)'. */
  readonly name: string;
  /** How many cases (inputs, faults, clients × calls) were tried. */
  readonly tried: number;
  /** How many ended as required (typed error or disconnect in time, reply correct, ...). */
  readonly passed: number;
  /** Work that was lost (calls unanswered, replies wrong); must be 0. */
  readonly lost?: number;
  /** Measured figure worth printing, e.g. 'slowest 13 ms, RSS +0.4 MB'. */
  readonly detail?: string;
}

export function recordHardening(row: HardeningRow): void {
  const out = process.env.PROCWIRE_HARDEN_OUT;
  if (!out) return;
  appendFileSync(out, `${JSON.stringify({ lost: 0, ...row })}\n`);
}
