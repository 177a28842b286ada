/**
 * One pool worker, started by the parent with spawn(). It serves the parent
 * over the inherited socketpair and exits by itself once the parent closes it.
 */
import { serve } from 'procwire';
import { primes } from './contract.js';

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

await serve(primes, 'socketpair:', {
  // Synchronous on purpose: the worker is busy for the whole job, which is
  // why the parent gives each worker one job at a time.
  countPrimes: ({ from, to }) => {
    let count = 0;
    for (let n = from; n < to; n++) if (isPrime(n)) count++;
    return { count, pid: process.pid };
  },
});
