/**
 * The calc channel: the one contract both server.ts and client.ts import, so
 * both sides are typed (and validated) from the same zod schemas.
 */
import { defineChannel } from 'procwire';
import { z } from 'zod';

export const calc = defineChannel({
  name: 'calc',
  version: 1,
  rpc: {
    add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
    // Resolves after `ms`; used to show timeouts and cancellation.
    sleep: { input: z.object({ ms: z.number().int().nonnegative() }), output: z.literal('done') },
  },
  events: {
    // Broadcast by the server every second to every connected client.
    tick: z.object({ n: z.number().int(), at: z.number() }),
  },
  streams: {
    // Yields 0, 1, ..., to - 1.
    count: { input: z.object({ to: z.number().int().nonnegative() }), output: z.number().int() },
  },
});

export type Calc = typeof calc;
