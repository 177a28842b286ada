/**
 * Folds the sessions of a run into one figure per case, mode and size: the
 * median over repetitions of each session's median (and of its p99), so one
 * session that landed on a bad moment of a noisy VM does not decide a row.
 */
import { CASES, type CaseInfo, type Mode } from './cases.js';
import type { SessionResult } from './session.js';
import { median } from './stats.js';

export type { Mode } from './cases.js';

interface LatencyFigure {
  /** Median over sessions of the session p50, µs. */
  readonly p50: number;
  readonly p99: number;
  /** Each session's p50 and p99, µs, in run order. */
  readonly p50s: readonly number[];
  readonly p99s: readonly number[];
}

interface ThroughputFigure {
  /** Median over sessions, messages per second. */
  readonly msgsPerSec: number;
  readonly runs: readonly number[];
  /** True when some burst hit the time limit (its rate is what arrived in time). */
  readonly partial: boolean;
}

export interface CaseFigures {
  readonly info: CaseInfo;
  readonly latency: Record<Mode, Record<number, LatencyFigure>>;
  readonly throughput: Record<number, ThroughputFigure>;
  /** Binary payloads of `size` bytes, one way; `msgsPerSec` counts payloads. */
  bytes?: ThroughputFigure & { readonly size: number; readonly gbPerSec: number };
  /** CPU affinity of client and server as seen in each session, e.g. "0/0". */
  readonly cpus: Record<Mode, string[]>;
  readonly errors: string[];
}

function emptyFigures(info: CaseInfo): CaseFigures {
  return { info, latency: { pinned: {}, unpinned: {} }, throughput: {}, cpus: { pinned: [], unpinned: [] }, errors: [] };
}

export function aggregate(
  sessions: readonly SessionResult[],
  errors: readonly { caseId: string; message: string }[],
  caseIds: readonly string[],
  sizes: readonly number[],
): Map<string, CaseFigures> {
  const out = new Map<string, CaseFigures>();
  for (const info of CASES) {
    if (!caseIds.includes(info.id)) continue;
    const figures = emptyFigures(info);
    const mine = sessions.filter((s) => s.caseId === info.id);
    for (const mode of ['pinned', 'unpinned'] as const) {
      const runs = mine.filter((s) => s.pinned === (mode === 'pinned'));
      figures.cpus[mode] = runs.map((s) => `${s.cpus.client}/${s.cpus.server}`);
      for (const size of sizes) {
        const p50s = runs.map((s) => s.latency[size]?.p50 ?? Number.NaN);
        const p99s = runs.map((s) => s.latency[size]?.p99 ?? Number.NaN);
        if (p50s.some(Number.isFinite)) figures.latency[mode][size] = { p50: median(p50s), p99: median(p99s), p50s, p99s };
      }
    }
    for (const size of sizes) {
      const results = mine.map((s) => s.throughput[size]).filter((t) => t !== undefined);
      if (results.length === 0) continue;
      const runs = results.map((t) => t.msgsPerSec);
      figures.throughput[size] = { msgsPerSec: median(runs), runs, partial: results.some((t) => !t.complete) };
    }
    const blobs = mine.map((s) => s.bytes).filter((b) => b !== undefined);
    if (blobs.length > 0) {
      const runs = blobs.map((b) => b.msgsPerSec);
      const size = blobs[0]!.size;
      const msgsPerSec = median(runs);
      figures.bytes = { msgsPerSec, runs, partial: blobs.some((b) => !b.complete), size, gbPerSec: (msgsPerSec * size) / 1e9 };
    }
    figures.errors.push(...errors.filter((e) => e.caseId === info.id).map((e) => e.message));
    out.set(info.id, figures);
  }
  return out;
}

// Queries over the figures, shared by the targets, the report and the chart.

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

/**
 * A case's p50 round trip in its faster mode. Spinning needs a second CPU
 * to spin against, while sleeping peers are fastest on one CPU, so each
 * case is compared at its best: the fair reading of "faster than".
 */
export function bestP50(figures: CaseFigures | undefined, size: number): { p50: number; mode: Mode } | undefined {
  let best: { p50: number; mode: Mode } | undefined;
  for (const mode of ['pinned', 'unpinned'] as const) {
    const p50 = figures?.latency[mode][size]?.p50;
    if (p50 !== undefined && Number.isFinite(p50) && (!best || p50 < best.p50)) best = { p50, mode };
  }
  return best;
}
