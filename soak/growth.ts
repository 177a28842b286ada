/**
 * RSS growth as the soak judges it.
 *
 * Raw RSS of a Node process breathes by 20-50 MB here while its live heap
 * stays flat to 0.1 MB: V8 resizes its young generation, garbage waits for
 * the next major collection, V8 and glibc give freed memory back late or not
 * at all. A 10 MB limit on two raw readings would invent leaks or hide them.
 * So:
 * - every process of the run gets a small fixed young generation and glibc
 *   malloc set to give freed memory back (see runTransport.ts, V8_FLAGS and
 *   MEASURE_ENV);
 * - at every 5% of the calls from 5% to 95% (while calls are running) each
 *   process runs a full collection, waits 100 ms (V8 gives freed pages back
 *   from background threads), collects again, and RSS is read right after:
 *   19 checkpoints;
 * - start = the lowest of those at 5-25% of the calls (after the warm-up),
 *   end = the lowest at 80-95%, growth = end - start: floor to floor;
 * - pass when growth <= 10 MB (10,000,000 bytes).
 * A leak proportional to the number of calls raises every later floor: one
 * of L bytes over the whole run shows as at least 0.55 L of growth
 * (0.8 L - 0.25 L, whichever checkpoints hold the floors), so 18 MB or more
 * fails for certain; memory that comes and goes does not. Trials, 10M calls
 * with buffers kept by the server's add handler: 20 MB kept showed as
 * +16.1 MB (unix) and +11.9 MB (mq), both FAIL; 10 MB kept showed as +9.3
 * and +2.7 MB, both PASS (below the limit, as it should be at 10 MB); the
 * clean clients of the same runs measured between -12.3 and +6.8 MB.
 * Raw RSS is sampled too and its peak reported; the live heap at the first
 * and last checkpoint is logged.
 */
export const CHECKPOINTS = Array.from({ length: 19 }, (_, i) => (i + 1) * 0.05);
export const START_WINDOW = [0.05, 0.25] as const;
export const END_WINDOW = [0.8, 0.95] as const;
/** Largest growth that passes: 10 MB (10,000,000 bytes). */
export const MAX_GROWTH_BYTES = 10_000_000;

export interface RssSample {
  /** Calls completed when the sample was taken. */
  readonly done: number;
  readonly rss: number;
}

export interface Growth {
  readonly start: number;
  readonly end: number;
  readonly growth: number;
}

const within = (fraction: number, [from, to]: readonly [number, number]) => fraction >= from - 1e-9 && fraction <= to + 1e-9;

/** Floor-to-floor growth over post-collection RSS readings keyed by checkpoint fraction. */
export function floorGrowth(readings: ReadonlyMap<number, number>): Growth | undefined {
  const floor = (window: readonly [number, number]) => {
    const values = [...readings].filter(([fraction]) => within(fraction, window)).map(([, rss]) => rss);
    return values.length === 0 ? undefined : Math.min(...values);
  };
  const start = floor(START_WINDOW);
  const end = floor(END_WINDOW);
  return start === undefined || end === undefined ? undefined : { start, end, growth: end - start };
}

export function peakOf(samples: readonly RssSample[]): number | undefined {
  return samples.length === 0 ? undefined : Math.max(...samples.map((s) => s.rss));
}
