/**
 * Counts the primes below LIMIT on a pool of worker processes:
 * `tsx examples/worker-pool/main.ts [workers]`.
 *
 * Part way through, one busy worker is killed with SIGKILL, as a crash or
 * the OOM killer would: the pool replaces it and re-runs the job it lost,
 * so the total still matches a count made in this process.
 */
import { availableParallelism } from 'node:os';
import { ProcwireError } from 'procwire';
import { primes } from './contract.js';
import { WorkerPool } from './pool.js';

const LIMIT = 10_000_000;
const CHUNK = 250_000;
const size = Number(process.argv[2] ?? Math.max(2, availableParallelism()));
if (!Number.isInteger(size) || size < 1) {
  process.stderr.write('usage: tsx examples/worker-pool/main.ts [workers]\n');
  process.exit(2);
}

/** The expected answer, from a sieve in this process. */
function primesBelow(limit: number): number {
  const composite = new Uint8Array(limit);
  let count = 0;
  for (let n = 2; n < limit; n++) {
    if (composite[n]) continue;
    count++;
    for (let m = n * n; m < limit; m += n) composite[m] = 1;
  }
  return count;
}

const started = performance.now();
const pool = await WorkerPool.start(primes, new URL('./worker.ts', import.meta.url), { size }).catch((error: unknown) => {
  // A worker that cannot start is a ProcwireError with a code worth showing; anything else is a bug.
  if (!(error instanceof ProcwireError)) throw error;
  process.stderr.write(`cannot start the pool: ${error.code}: ${error.message}\n`);
  process.exit(1);
});
console.log(
  `pool of ${size} workers up in ${(performance.now() - started).toFixed(0)} ms: pids ${pool
    .stats()
    .map((s) => s.pid)
    .join(', ')}`,
);

const jobsByPid = new Map<number, number>();
let finished = 0;
let crashed = false;
const jobs: Promise<number>[] = [];
for (let from = 0; from < LIMIT; from += CHUNK) {
  const range = { from, to: Math.min(from + CHUNK, LIMIT) };
  jobs.push(
    pool.run(async (worker) => {
      const { count, pid } = await worker.rpc.countPrimes(range);
      jobsByPid.set(pid, (jobsByPid.get(pid) ?? 0) + 1);
      // After a few results, crash a worker that is in the middle of a job.
      if (++finished === 5 && !crashed) {
        crashed = true;
        const victim = pool.stats().find((s) => s.inFlight > 0 && s.pid !== undefined);
        if (victim) {
          console.log(`killing busy worker ${victim.pid} with SIGKILL`);
          process.kill(victim.pid!, 'SIGKILL');
        }
      }
      return count;
    }),
  );
}

const computeStart = performance.now();
try {
  const total = (await Promise.all(jobs)).reduce((a, b) => a + b, 0);
  const ms = performance.now() - computeStart;
  const expected = primesBelow(LIMIT);
  console.log(`primes below ${LIMIT}: ${total} (expected ${expected}) in ${ms.toFixed(0)} ms over ${jobs.length} jobs`);
  console.log(`jobs per worker pid: ${[...jobsByPid].map(([pid, n]) => `${pid}=${n}`).join(', ')}`);
  console.log(
    `restarts per slot: ${pool
      .stats()
      .map((s) => s.restarts)
      .join(', ')}`,
  );
  if (total !== expected) process.exitCode = 1;
} catch (error) {
  process.exitCode = 1;
  process.stderr.write(`a job failed: ${(error as Error).message}\n`);
} finally {
  await pool.close();
  console.log('pool closed');
}
