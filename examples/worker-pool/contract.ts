/** The channel between the pool's parent and each of its workers. */
import { defineChannel } from 'procwire';
import { z } from 'zod';

export const primes = defineChannel({
  name: 'primes',
  version: 1,
  rpc: {
    // Counts the primes p with from <= p < to: deliberately CPU-bound.
    countPrimes: {
      input: z.object({ from: z.number().int().nonnegative(), to: z.number().int().nonnegative() }),
      output: z.object({ count: z.number().int(), pid: z.number().int() }),
    },
  },
});

export type Primes = typeof primes;
