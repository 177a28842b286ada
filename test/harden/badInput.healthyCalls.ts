import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'procwire';
import type { hardenTarget } from '../fixtures/hardenContract.js';

export interface HealthyCalls {
  /** Calls answered correctly so far. */
  readonly done: () => number;
  /** Calls that failed or answered wrongly, with what happened. */
  readonly wrong: string[];
  /** The slowest call, in ms. */
  readonly slowest: () => number;
  stop(): Promise<void>;
}

/**
 * A well-behaved client calling `add` over and over while the attacks run
 * (a millisecond apart, so it keeps the server busy without drowning a
 * 2-CPU machine); every answer is checked.
 */
export function callContinuously(client: Client<typeof hardenTarget>): HealthyCalls {
  let stopped = false;
  let done = 0;
  let slowest = 0;
  const wrong: string[] = [];
  const loop = (async () => {
    for (let n = 0; !stopped; n++) {
      const started = performance.now();
      try {
        const sum = await client.rpc.add({ a: n, b: 0.5 });
        if (sum === n + 0.5) done++;
        else wrong.push(`add(${n}, 0.5) = ${sum}`);
      } catch (error) {
        wrong.push(`add(${n}, 0.5) failed: ${(error as Error).message}`);
      }
      slowest = Math.max(slowest, performance.now() - started);
      await sleep(1);
    }
  })();
  return {
    done: () => done,
    wrong,
    slowest: () => slowest,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
