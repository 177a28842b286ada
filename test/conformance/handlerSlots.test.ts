/**
 * A call or stream holds its server slot (maxPendingCalls) until its handler
 * or producer has settled, not merely until the caller gave up: a client that
 * times out or cancels and calls again must not get more handlers running at
 * once than the server's limit. Over every transport, across processes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connect, defineChannel, ErrorCode, serve, type Client } from 'procwire';
import type { calc } from '../fixtures/calc.js';
import { tempSocketPath } from '../helpers/processes.js';
import { endpointKinds } from './endpoints.js';

const LIMIT = 10;
/** How long each stubborn handler sleeps, ignoring its signal: far longer than all rounds of calls take. */
const STUBBORN_MS = 1500;

/** Waits until nothing stubborn runs on the server; the count call itself needs a free slot. */
async function settledCount(client: Client<typeof calc>): Promise<{ running: number; peak: number }> {
  const until = performance.now() + 20_000;
  for (;;) {
    const count = await client.rpc.stubbornCount().catch(() => undefined);
    if (count && count.running === 0) return count;
    if (performance.now() > until) throw new Error(`stubborn handlers still running: ${JSON.stringify(count)}`);
    await sleep(50);
  }
}

/** Opens a stubborn stream and cancels it before its first item; resolves with how it ended. */
async function cancelledStream(client: Client<typeof calc>): Promise<string> {
  const controller = new AbortController();
  const iterator = client.stream.stubbornItems({ ms: STUBBORN_MS }, { signal: controller.signal })[Symbol.asyncIterator]();
  const first = iterator.next();
  setTimeout(() => controller.abort(), 20);
  try {
    await first;
    return 'item';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

for (const kind of endpointKinds) {
  describe.skipIf(!kind.available)(`handler slots over ${kind.name}`, () => {
    it('a timed-out or cancelled call keeps its slot until the handler settles; so does a cancelled producer', async () => {
      const peer = await kind.start({ serve: { maxPendingCalls: LIMIT }, client: { maxPendingCalls: LIMIT } });
      try {
        const client = peer.client;
        const outcomes: string[] = [];
        // Each round frees every client slot (timeouts, cancels) long before
        // the server's handlers finish: 8 rounds offer 80 handlers at once.
        for (let round = 0; round < 8; round++) {
          const calls = Array.from({ length: LIMIT / 2 }, () =>
            client.rpc.stubborn({ ms: STUBBORN_MS }, { timeoutMs: 20 }).then(
              () => 'done',
              (error: { code: string }) => error.code,
            ),
          );
          const streams = Array.from({ length: LIMIT / 2 }, () => cancelledStream(client));
          outcomes.push(...(await Promise.all([...calls, ...streams])));
        }
        const { peak } = await settledCount(client);
        expect(peak).toBeGreaterThan(0);
        expect(peak).toBeLessThanOrEqual(LIMIT);
        // The server refused what its held slots left no room for.
        expect(outcomes).toContain(ErrorCode.TOO_MANY_PENDING);
        expect(outcomes.every((o) => o === ErrorCode.TIMEOUT || o === ErrorCode.CANCELLED || o === ErrorCode.TOO_MANY_PENDING)).toBe(true);
        // Once they settled, every slot is free again.
        const again = await Promise.all(Array.from({ length: LIMIT }, () => client.rpc.add({ a: 1, b: 1 })));
        expect(again).toEqual(new Array(LIMIT).fill(2));
      } finally {
        await peer.stop();
      }
    });
  });
}

describe('handler slots and graceful close', () => {
  const slow = defineChannel({
    name: 'slow',
    version: 1,
    rpc: { stubborn: { input: z.object({ ms: z.number() }), output: z.literal('done') } },
  });

  it('server.close({ graceMs }) waits for a cancelled handler that is still running, within the grace', async () => {
    let settledAt = 0;
    const url = `unix://${tempSocketPath()}`;
    const server = await serve(
      slow,
      url,
      {
        stubborn: async ({ ms }) => {
          await sleep(ms);
          settledAt = performance.now();
          return 'done' as const;
        },
      },
      { shutdownSignals: false },
    );
    const client = await connect(slow, url);
    const call = client.rpc.stubborn({ ms: 600 }, { timeoutMs: 20 });
    await expect(call).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
    await server.close({ graceMs: 10_000 });
    // The cancelled handler had settled before close resolved, well within the grace.
    expect(settledAt).toBeGreaterThan(0);
    await client.close();
  });
});
