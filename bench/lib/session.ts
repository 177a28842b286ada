/**
 * What the runner asks of one measuring client process, and what it gets
 * back. A session is one case, one pinning mode, one repetition: a fresh
 * client process and a fresh server process.
 */
import type { LatencySummary } from './stats.js';

export interface LatencyPlan {
  readonly warmup: number;
  readonly iterations: number;
  /** Stop early after this long (a slow case must not eat the time budget). */
  readonly maxMs: number;
}

/**
 * Bursts are sized by time, not by a fixed count: a first (probe) burst
 * warms up and estimates the rate, then `measuredBursts` bursts are sized to
 * last about `targetSeconds` each and the session reports their median. A
 * fixed count would make a slow library run for minutes and a fast one for
 * milliseconds.
 */
export interface ThroughputPlan {
  readonly measuredBursts: number;
  /** Messages of the probe burst, by payload size. */
  readonly probeCounts: Readonly<Record<number, number>>;
  readonly targetSeconds: number;
  readonly minCount: number;
  /** Largest measured burst, by payload size (bounds the sender's memory). */
  readonly maxCounts: Readonly<Record<number, number>>;
  /** A burst still incomplete after this long is cut short and reported as partial. */
  readonly maxSeconds: number;
}

export interface SessionSpec {
  readonly caseId: string;
  readonly pinned: boolean;
  readonly sizes: readonly number[];
  readonly latency: LatencyPlan;
  /** Only unpinned sessions measure throughput (two CPUs). */
  readonly throughput?: ThroughputPlan;
  /** One-way binary payloads of `size` bytes (GB/s): unpinned sessions of cases marked `bytes`. */
  readonly bytes?: ThroughputPlan & { readonly size: number };
  /** Private directory for Unix socket files; the runner removes it. */
  readonly socketDir: string;
}

/** One burst. */
export interface BurstResult {
  /** Messages received (all of them unless the burst was cut short). */
  readonly count: number;
  readonly requested: number;
  /** False when the time limit cut the burst short; the rate is then what arrived in that time. */
  readonly complete: boolean;
  readonly seconds: number;
  readonly msgsPerSec: number;
}

/** One payload size of one session: the median of its measured bursts. */
export interface ThroughputResult {
  readonly msgsPerSec: number;
  /** False when some burst was cut short by the time limit. */
  readonly complete: boolean;
  readonly bursts: readonly BurstResult[];
}

export interface SessionResult {
  readonly caseId: string;
  readonly pinned: boolean;
  /** CPUs each process may run on, read from /proc: proof the pinning took. */
  readonly cpus: { readonly client: string; readonly server: string };
  readonly latency: Record<number, LatencySummary>;
  readonly throughput: Record<number, ThroughputResult>;
  /** Binary payloads of `size` bytes; msgsPerSec counts payloads. */
  readonly bytes?: ThroughputResult & { readonly size: number };
}

/** The client prints its result on one stdout line with this prefix. */
export const RESULT_PREFIX = 'BENCH-RESULT ';
