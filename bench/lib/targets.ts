/**
 * The two targets from the issue, checked against figures measured in the
 * same run. A target whose inputs were not measured (filtered out with
 * --only) is reported as not evaluated, never as a pass.
 */
import type { CaseFigures } from './aggregate.js';
import { CASES, HEADLINE_FLOOR, HEADLINE_PROCWIRE } from './cases.js';

export const SMALL = 64;
export const LATENCY_LIMIT = 1.15;
export const THROUGHPUT_FACTOR = 2;

export interface TargetResult {
  readonly statement: string;
  /** The measured ratio (NaN when not measured). */
  readonly ratio: number;
  readonly pass: boolean | undefined;
  /** The figures the ratio comes from, in words. */
  readonly detail: string;
}

export interface BestPeer {
  readonly id: string;
  readonly msgsPerSec: number;
}

/** The peer library (not a floor, not procwire) with the highest one-way rate at `size`. */
export function bestPeer(figures: ReadonlyMap<string, CaseFigures>, size: number): BestPeer | undefined {
  let best: BestPeer | undefined;
  for (const info of CASES) {
    if (info.role !== 'peer') continue;
    const rate = figures.get(info.id)?.throughput[size]?.msgsPerSec;
    if (rate !== undefined && Number.isFinite(rate) && (!best || rate > best.msgsPerSec)) best = { id: info.id, msgsPerSec: rate };
  }
  return best;
}

export function evaluateTargets(figures: ReadonlyMap<string, CaseFigures>): TargetResult[] {
  const procwire = figures.get(HEADLINE_PROCWIRE);
  const floor = figures.get(HEADLINE_FLOOR);
  const results: TargetResult[] = [];

  const pw = procwire?.latency.pinned[SMALL]?.p50;
  const fl = floor?.latency.pinned[SMALL]?.p50;
  const latencyRatio = pw !== undefined && fl !== undefined ? pw / fl : Number.NaN;
  results.push({
    statement: `procwire over unix: within ${LATENCY_LIMIT}x of the raw floor, pinned p50 round trip (${SMALL} B)`,
    ratio: latencyRatio,
    pass: Number.isFinite(latencyRatio) ? latencyRatio <= LATENCY_LIMIT : undefined,
    detail: Number.isFinite(latencyRatio)
      ? `${pw!.toFixed(1)} µs vs ${fl!.toFixed(1)} µs (${HEADLINE_FLOOR})`
      : `not measured (needs ${HEADLINE_PROCWIRE} and ${HEADLINE_FLOOR})`,
  });

  const rate = procwire?.throughput[SMALL]?.msgsPerSec;
  const peer = bestPeer(figures, SMALL);
  const throughputRatio = rate !== undefined && peer ? rate / peer.msgsPerSec : Number.NaN;
  results.push({
    statement: `procwire over unix: at least ${THROUGHPUT_FACTOR}x the best peer's one-way throughput (${SMALL} B)`,
    ratio: throughputRatio,
    pass: Number.isFinite(throughputRatio) ? throughputRatio >= THROUGHPUT_FACTOR : undefined,
    detail: Number.isFinite(throughputRatio)
      ? `${Math.round(rate!)} msgs/s vs ${Math.round(peer!.msgsPerSec)} msgs/s (${peer!.id})`
      : `not measured (needs ${HEADLINE_PROCWIRE} and at least one peer)`,
  });
  return results;
}
