/**
 * The small channel the dispatcher properties serve and call. Outputs,
 * stream items and event payloads go through transforms, so a value the
 * client hands its caller shows whether it passed the schema: a raw server
 * value never has the `validated`/`item`/`event` wrapper.
 */
import { z } from 'zod';
import { defineChannel, type ProcwireError, type Handlers } from '@procwire/core';

export const prop = defineChannel({
  name: 'prop',
  version: 1,
  rpc: {
    echo: { input: z.object({ n: z.number() }), output: z.number().transform((n) => ({ validated: n })) },
    slow: { input: z.object({ ms: z.number().int().min(0).max(20) }), output: z.literal('done') },
    fail: { input: z.unknown(), output: z.never() },
    any: { input: z.unknown(), output: z.unknown() },
  },
  streams: {
    count: { input: z.object({ to: z.number().int().min(0).max(20) }), output: z.number().transform((n) => ({ item: n })) },
  },
  events: {
    tick: z.object({ n: z.number() }).transform((p) => ({ event: p.n })),
  },
});

export const RPC_NAMES = ['prop.echo', 'prop.slow', 'prop.fail', 'prop.any'] as const;
export const STREAM_NAMES = ['prop.count'] as const;

export const propHandlers: Handlers<typeof prop> = {
  echo: ({ n }) => n,
  slow: ({ ms }, { signal }) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve('done'), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason as ProcwireError);
      });
    }),
  fail: () => {
    throw new Error('the fail handler always throws');
  },
  any: (input) => input,
  count: async function* ({ to }) {
    for (let i = 0; i < to; i++) yield i;
  },
};
