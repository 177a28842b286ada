/**
 * What a target's figure is made of, from the same run, printed under each
 * verdict so a miss says what limits it: the cost of validation (the same
 * case with validation off), the mechanism itself (the C limit), and the
 * rest (event loops, msgpack, dispatch, copies in JavaScript).
 */
import { bestP50, type CaseFigures } from './aggregate.js';
import { HEADLINE_FLOOR, HEADLINE_PROCWIRE, SHM_SLEEP, SHM_SPIN } from './cases.js';
import { gbps, rate, us } from './format.js';
import type { IdleResult } from './idleCheck.js';

const NOVALIDATE = `${SHM_SPIN}/novalidate`;

/** "a: validation ≈ x µs, mechanism y µs, rest ≈ z µs" for a per-message cost in µs. */
function split(total: number, withoutValidation: number | undefined, mechanism: number | undefined, mechanismId: string): string {
  const parts = [`${us(total)} µs`];
  // Noise can make the run without validation the slower one: then validation is taken as free, not negative.
  const base = withoutValidation === undefined ? total : Math.min(total, withoutValidation);
  if (withoutValidation !== undefined) parts.push(`validation ≈ ${us(total - base)} µs`);
  if (mechanism !== undefined) {
    parts.push(`${mechanismId} ${us(mechanism)} µs`);
    const rest = base - mechanism;
    parts.push(`the rest (event loops, msgpack, dispatch) ≈ ${us(Math.max(0, rest))} µs`);
  }
  return parts.join(', ');
}

export function latencyContext(figures: ReadonlyMap<string, CaseFigures>, size: number): string {
  const parts: string[] = [];
  const spin = figures.get(SHM_SPIN);
  if (spin) parts.push(`shm spin pinned ${us(spin.latency.pinned[size]?.p50)} µs, unpinned ${us(spin.latency.unpinned[size]?.p50)} µs`);
  for (const id of ['c/ring', 'c/futex']) {
    const c = bestP50(figures.get(id), size);
    if (c) parts.push(`${id} ${us(c.p50)} µs (${c.mode})`);
  }
  const shm = bestP50(spin, size);
  if (shm) {
    // Like with like: validation off and the C ring in the mode shm spin was fastest in.
    const novalidate = figures.get(NOVALIDATE)?.latency[shm.mode][size]?.p50;
    const ring = figures.get('c/ring')?.latency[shm.mode][size]?.p50;
    parts.push(`round trip (${shm.mode}) = ${split(shm.p50, novalidate, ring, 'c/ring')}`);
  }
  return parts.join('; ');
}

export function rateContext(figures: ReadonlyMap<string, CaseFigures>, size: number): string {
  const rateOf = (id: string) => figures.get(id)?.throughput[size]?.msgsPerSec;
  const parts = [NOVALIDATE, SHM_SLEEP, HEADLINE_FLOOR, 'c/ring', 'c/unix']
    .filter((id) => rateOf(id) !== undefined)
    .map((id) => `${id} ${rate(rateOf(id))}`);
  const mine = rateOf(SHM_SPIN);
  if (mine !== undefined) {
    const perMessage = (r: number | undefined) => (r === undefined ? undefined : 1e6 / r);
    parts.push(`per message = ${split(1e6 / mine, perMessage(rateOf(NOVALIDATE)), perMessage(rateOf('c/ring')), 'c/ring')}`);
  }
  return parts.join('; ');
}

export function bytesContext(figures: ReadonlyMap<string, CaseFigures>): string {
  const gb = (id: string) => figures.get(id)?.bytes?.gbPerSec;
  const parts = [NOVALIDATE, HEADLINE_PROCWIRE, HEADLINE_FLOOR, 'c/memcpy/cold', 'c/memcpy/warm']
    .filter((id) => gb(id) !== undefined)
    .map((id) => `${id} ${gbps(gb(id))} GB/s`);
  const mine = figures.get(SHM_SPIN)?.bytes;
  const cold = figures.get('c/memcpy/cold')?.bytes;
  if (mine && cold) {
    // Each copy of a fresh payload costs about one cold memcpy: this says how many copies' worth of time a payload takes.
    const perPayload = 1e6 / mine.msgsPerSec;
    const perCopy = 1e6 / cold.msgsPerSec;
    parts.push(`per payload ${us(perPayload)} µs = ${(perPayload / perCopy).toFixed(1)}x a cold 1 MiB memcpy (${us(perCopy)} µs)`);
  }
  return parts.join('; ');
}

/** Where an idle pair's CPU went. */
export function idleSplit(r: IdleResult): string {
  const ms = (v: number | undefined) => (v === undefined ? '?' : v.toFixed(2));
  return (
    `client ${ms(r.client!.runMs)} ms / ${r.client!.switches} wake-ups, ` +
    `server ${ms(r.server!.runMs)} ms / ${r.server!.switches} wake-ups; utime+stime ${r.client!.tickMs + r.server!.tickMs} ms`
  );
}
