/**
 * The targets from the issues, checked against figures measured in the
 * same run: the two for procwire over unix:, and the four for shm:. A
 * target whose inputs were not measured (filtered out with --only, or a
 * case that failed) is reported as not evaluated, never as a pass. Every
 * result carries the measured number and, in `context`, the same-run
 * figures that show what limits it (validation off, the C limits, the floor).
 */
import { bestP50, bestPeer, type CaseFigures } from './aggregate.js';
import { CASES, HEADLINE_FLOOR, HEADLINE_PROCWIRE, SHM_SPIN } from './cases.js';
import { us as fmtUs } from './format.js';
import type { IdleResult } from './idleCheck.js';
import { bytesContext, idleSplit as split, latencyContext, rateContext } from './targetContext.js';

export { bestPeer } from './aggregate.js';

const SMALL = 64;
const LATENCY_LIMIT = 1.15;
const THROUGHPUT_FACTOR = 2;

/** shm spin, whole stack, 64 B: p50 round trip at most this many µs… */
export const SHM_P50_LIMIT_US = 5;
/** …and at least this many times faster than the raw Unix floor and every JavaScript peer. */
const SHM_SPEEDUP = 4;
/** shm spin, one way, 64 B messages per second. */
export const SHM_RATE = 1_500_000;
/** shm spin, one way, 1 MiB binary payloads: GB/s (10^9 bytes of payload per second). */
export const SHM_GBPS = 3;
/** The idle window and the most CPU client + server may use in it: "no measurable CPU". */
export const IDLE_SECONDS = 5;
export const IDLE_CPU_LIMIT_MS = 5;

export interface TargetResult {
  readonly statement: string;
  /** The measured figure the verdict is about (NaN when not measured), in `unit`. */
  readonly value: number;
  readonly unit: 'x' | 'µs' | 'msgs/s' | 'GB/s' | 'ms';
  readonly pass: boolean | undefined;
  /** The figures the verdict comes from, in words. */
  readonly detail: string;
  /** Same-run figures that show what limits it. */
  readonly context?: string;
}

const us = (v: number | undefined) => `${fmtUs(v)} µs`;
const msgs = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v).toLocaleString('en-US')} msgs/s`);
const notMeasured = (needs: string) => `needs ${needs} measured in this run`;

export function evaluateTargets(figures: ReadonlyMap<string, CaseFigures>, idle: readonly IdleResult[] = []): TargetResult[] {
  return [...unixTargets(figures), shmLatency(figures), shmRate(figures), shmBytes(figures), shmIdle(idle)];
}

function unixTargets(figures: ReadonlyMap<string, CaseFigures>): TargetResult[] {
  const procwire = figures.get(HEADLINE_PROCWIRE);
  const floor = figures.get(HEADLINE_FLOOR);
  const pw = procwire?.latency.pinned[SMALL]?.p50;
  const fl = floor?.latency.pinned[SMALL]?.p50;
  const latencyRatio = pw !== undefined && fl !== undefined ? pw / fl : Number.NaN;
  const rate = procwire?.throughput[SMALL]?.msgsPerSec;
  const peer = bestPeer(figures, SMALL);
  const throughputRatio = rate !== undefined && peer ? rate / peer.msgsPerSec : Number.NaN;
  return [
    {
      statement: `procwire over unix: within ${LATENCY_LIMIT}x of the raw floor, pinned p50 round trip (${SMALL} B)`,
      value: latencyRatio,
      unit: 'x',
      pass: Number.isFinite(latencyRatio) ? latencyRatio <= LATENCY_LIMIT : undefined,
      detail: Number.isFinite(latencyRatio)
        ? `${us(pw)} vs ${us(fl)} (${HEADLINE_FLOOR})`
        : notMeasured(`${HEADLINE_PROCWIRE} and ${HEADLINE_FLOOR}`),
    },
    {
      statement: `procwire over unix: at least ${THROUGHPUT_FACTOR}x the best peer's one-way throughput (${SMALL} B)`,
      value: throughputRatio,
      unit: 'x',
      pass: Number.isFinite(throughputRatio) ? throughputRatio >= THROUGHPUT_FACTOR : undefined,
      detail: Number.isFinite(throughputRatio)
        ? `${msgs(rate)} vs ${msgs(peer!.msgsPerSec)} (${peer!.id})`
        : notMeasured(`${HEADLINE_PROCWIRE} and at least one peer`),
    },
  ];
}

function shmLatency(figures: ReadonlyMap<string, CaseFigures>): TargetResult {
  const statement =
    `shm spin: p50 round trip at most ${SHM_P50_LIMIT_US} µs through the whole stack (${SMALL} B), ` +
    `and at least ${SHM_SPEEDUP}x faster than ${HEADLINE_FLOOR} and every JavaScript peer (each case in its faster mode)`;
  const shm = bestP50(figures.get(SHM_SPIN), SMALL);
  const floor = bestP50(figures.get(HEADLINE_FLOOR), SMALL);
  const peers = CASES.filter((c) => c.role === 'peer')
    .map((c) => ({ id: c.id, best: bestP50(figures.get(c.id), SMALL) }))
    .filter((p) => p.best !== undefined);
  if (!shm || !floor || peers.length === 0) {
    return {
      statement,
      value: shm?.p50 ?? Number.NaN,
      unit: 'µs',
      pass: undefined,
      detail: notMeasured(`${SHM_SPIN}, ${HEADLINE_FLOOR} and at least one peer`),
    };
  }
  const speedups = [{ id: HEADLINE_FLOOR, best: floor }, ...peers].map((b) => ({
    id: b.id,
    p50: b.best!.p50,
    mode: b.best!.mode,
    x: b.best!.p50 / shm.p50,
  }));
  const closest = speedups.reduce((a, b) => (b.x < a.x ? b : a));
  const missingPeers = CASES.filter((c) => c.role === 'peer').length - peers.length;
  return {
    statement,
    value: shm.p50,
    unit: 'µs',
    pass: shm.p50 <= SHM_P50_LIMIT_US && closest.x >= SHM_SPEEDUP,
    detail:
      `${shm.mode}; ${HEADLINE_FLOOR} ${us(floor.p50)} (${floor.mode}) = ${(floor.p50 / shm.p50).toFixed(2)}x; ` +
      `closest: ${closest.id} ${us(closest.p50)} = ${closest.x.toFixed(2)}x` +
      (missingPeers > 0 ? `; ${missingPeers} peer(s) not measured` : ''),
    context: latencyContext(figures, SMALL),
  };
}

function shmRate(figures: ReadonlyMap<string, CaseFigures>): TargetResult {
  const statement = `shm spin: at least ${(SHM_RATE / 1e6).toFixed(1)}M msgs/s one way (${SMALL} B)`;
  const rate = figures.get(SHM_SPIN)?.throughput[SMALL]?.msgsPerSec;
  const context = rateContext(figures, SMALL);
  if (rate === undefined) return { statement, value: Number.NaN, unit: 'msgs/s', pass: undefined, detail: notMeasured(SHM_SPIN), context };
  const runs = figures.get(SHM_SPIN)!.throughput[SMALL]!.runs.length;
  return { statement, value: rate, unit: 'msgs/s', pass: rate >= SHM_RATE, detail: `unpinned, median of ${runs} session(s)`, context };
}

function shmBytes(figures: ReadonlyMap<string, CaseFigures>): TargetResult {
  const statement = `shm spin: at least ${SHM_GBPS} GB/s one way with 1 MiB binary payloads`;
  const bytes = figures.get(SHM_SPIN)?.bytes;
  const context = bytesContext(figures);
  if (!bytes) return { statement, value: Number.NaN, unit: 'GB/s', pass: undefined, detail: notMeasured(SHM_SPIN), context };
  return {
    statement,
    value: bytes.gbPerSec,
    unit: 'GB/s',
    pass: bytes.gbPerSec >= SHM_GBPS,
    detail: `${Math.round(bytes.msgsPerSec)} payloads/s, unpinned, median of ${bytes.runs.length} session(s)`,
    context,
  };
}

function shmIdle(idle: readonly IdleResult[]): TargetResult {
  const statement = `shm sleep: an open idle connection uses no measurable CPU (client + server under ${IDLE_CPU_LIMIT_MS} ms in ${IDLE_SECONDS} s)`;
  const mine = idle.find((r) => r.id === 'idle/shm-sleep');
  const others =
    idle
      .filter((r) => r !== mine)
      .map((r) => (r.totalMs === undefined ? `${r.id} not measured: ${r.error}` : `${r.id} ${r.totalMs.toFixed(2)} ms (${split(r)})`))
      .join('; ') || undefined;
  if (mine?.totalMs === undefined) {
    const detail = mine ? `not measured: ${mine.error}` : notMeasured('idle/shm-sleep');
    return { statement, value: Number.NaN, unit: 'ms', pass: undefined, detail, context: others };
  }
  return { statement, value: mine.totalMs, unit: 'ms', pass: mine.totalMs < IDLE_CPU_LIMIT_MS, detail: split(mine), context: others };
}
