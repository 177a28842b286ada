/**
 * The two measurements, written once for every case. Timing uses
 * process.hrtime.bigint() around each awaited call; one call is in flight at
 * a time, so a sample is one full round trip including both processes'
 * event-loop wake-ups.
 */
import type { BenchClient } from '../cases/common.js';
import { makePayload } from './payload.js';
import type { BurstResult, LatencyPlan, ThroughputPlan, ThroughputResult } from './session.js';
import { median, summarize, type LatencySummary } from './stats.js';

export async function measureLatency(client: BenchClient, size: number, plan: LatencyPlan): Promise<LatencySummary> {
  const payload = makePayload(size);
  for (let i = 0; i < plan.warmup; i++) {
    payload.i = i;
    await client.roundTrip(payload);
  }
  const samples = new Float64Array(plan.iterations);
  const deadline = process.hrtime.bigint() + BigInt(plan.maxMs) * 1_000_000n;
  let n = 0;
  while (n < plan.iterations) {
    payload.i = n;
    const start = process.hrtime.bigint();
    await client.roundTrip(payload);
    const end = process.hrtime.bigint();
    samples[n++] = Number(end - start) / 1000;
    // Checked every 256 calls so the check itself stays out of the samples' cost.
    if ((n & 255) === 0 && end > deadline) break;
  }
  return summarize(samples.subarray(0, n));
}

/**
 * One-way throughput as the receiver sees it: from sending the burst request
 * to decoding the last message. The request's own trip is one message in
 * tens of thousands, too small to matter. The probe burst runs cold and
 * underestimates fast cases, so bursts are resized until one lasts at least
 * half the target; then the measured bursts run at that size.
 */
export async function measureThroughput(client: BenchClient, size: number, plan: ThroughputPlan): Promise<ThroughputResult> {
  const max = plan.maxCounts[size] ?? plan.minCount;
  const sized = (rate: number) => Math.min(max, Math.max(plan.minCount, Math.round(rate * plan.targetSeconds)));
  let probe = await timedBurst(client, size, plan.probeCounts[size] ?? plan.minCount, plan.maxSeconds);
  for (let attempt = 0; attempt < 3 && probe.complete; attempt++) {
    if (probe.seconds >= plan.targetSeconds / 2 || probe.requested >= max) break;
    probe = await timedBurst(client, size, sized(probe.msgsPerSec), plan.maxSeconds);
  }
  if (!probe.complete) return { msgsPerSec: probe.msgsPerSec, complete: false, bursts: [probe] };
  const bursts: BurstResult[] = [];
  for (let k = 0; k < plan.measuredBursts; k++) {
    const burst = await timedBurst(client, size, sized(probe.msgsPerSec), plan.maxSeconds);
    bursts.push(burst);
    // The rest of a cut-short burst is still arriving and would be counted by the next one.
    if (!burst.complete) break;
  }
  return { msgsPerSec: median(bursts.map((b) => b.msgsPerSec)), complete: bursts.every((b) => b.complete), bursts };
}

async function timedBurst(client: BenchClient, size: number, count: number, maxSeconds: number): Promise<BurstResult> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, maxSeconds * 1000, false);
  });
  const start = process.hrtime.bigint();
  const complete = await Promise.race([client.receiveBurst(count, size).then(() => true), limit]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearTimeout(timer);
  const received = complete ? count : client.received();
  return { count: received, requested: count, complete, seconds, msgsPerSec: received / seconds };
}
