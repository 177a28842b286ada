/**
 * The tour's probe client: `tsx examples/demo/client.ts <url>`. Runs against
 * the calc server (examples/calc/server.ts) and prints one JSON ProbeReport
 * line on stdout: whether rpc, stream and event work, and the round-trip
 * latency of a small call. For `socketpair:` it starts the server as its
 * worker, like the calc client does.
 */
import { ProcwireError } from 'procwire';
import { openCalc } from '../calc/open.js';
import type { CheckResult, ProbeReport } from './report.js';

const WARMUP_CALLS = 2000;
const TIMED_CALLS = 5000;
/** The server ticks once a second; allow for one missed tick. */
const EVENT_WAIT_MS = 2500;

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: tsx examples/demo/client.ts <url>\n');
  process.exit(2);
}

function reason(error: unknown): string {
  return error instanceof ProcwireError ? `${error.code}: ${error.message}` : String(error);
}

async function check(run: () => Promise<void>): Promise<CheckResult> {
  try {
    await run();
    return true;
  } catch (error) {
    return reason(error);
  }
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${what} was ${JSON.stringify(actual)?.slice(0, 60)}`);
}

/** Percentile of sorted samples, nearest-rank. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const report: ProbeReport = { checks: { rpc: 'not run', stream: 'not run', event: 'not run' } };
try {
  const client = await openCalc(url);
  try {
    // Subscribe before anything else so that a tick during the other checks counts.
    const tick = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no tick event within ${EVENT_WAIT_MS} ms`)), EVENT_WAIT_MS);
      client.once('tick', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    tick.catch(() => {}); // awaited below; do not count as unhandled meanwhile

    report.checks.rpc = await check(async () => expectEqual(await client.rpc.add({ a: 2, b: 3 }), 5, 'add(2, 3)'));

    // 1000 items: more than the default credit window, so backpressure credit is exercised.
    report.checks.stream = await check(async () => {
      const items: number[] = [];
      for await (const i of client.stream.count({ to: 1000 })) items.push(i);
      expectEqual(
        items,
        Array.from({ length: 1000 }, (_, i) => i),
        'count({to: 1000})',
      );
    });

    if (report.checks.rpc === true) {
      for (let i = 0; i < WARMUP_CALLS; i++) await client.rpc.add({ a: i, b: 1 });
      const samples = new Array<number>(TIMED_CALLS);
      for (let i = 0; i < TIMED_CALLS; i++) {
        const start = process.hrtime.bigint();
        await client.rpc.add({ a: i, b: 1 });
        samples[i] = Number(process.hrtime.bigint() - start) / 1000;
      }
      samples.sort((a, b) => a - b);
      report.latency = { p50: percentile(samples, 50), p99: percentile(samples, 99), calls: TIMED_CALLS };
    }

    report.checks.event = await check(() => tick);
  } finally {
    await client.close();
  }
} catch (error) {
  report.error = reason(error);
}
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exitCode = report.error || Object.values(report.checks).some((c) => c !== true) ? 1 : 0;
