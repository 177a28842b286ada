/**
 * Type tests: checked by `tsc -p test/tsconfig.json`, which `pnpm test` runs
 * before vitest; they are never executed. A wrong inference makes tsc fail,
 * and every `@ts-expect-error` must stay an error.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import * as v from 'valibot';
import {
  defineChannel,
  ProcwireError,
  type Client,
  type ErrorCodeString,
  type Handlers,
  type HandlerContext,
  type Server,
  type Worker,
} from 'procwire';

// An application's own error code, declared once so `error.code` may be compared with it.
declare module '@procwire/core' {
  interface CustomErrorCodes {
    OUT_OF_STOCK: true;
  }
}

const calc = defineChannel({
  name: 'calc',
  version: 1,
  rpc: {
    add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
    parse: { input: z.string(), output: z.string().transform((s) => s.length) },
    withDefault: { input: z.object({ n: z.number().default(1) }), output: z.void() },
  },
  events: { tick: z.object({ n: z.number() }) },
  streams: { count: { input: z.object({ to: z.number() }), output: z.number() } },
});

const valibotChannel = defineChannel({
  name: 'v',
  version: 1,
  rpc: { shout: { input: v.string(), output: v.pipe(v.string(), v.length(3)) } },
});

declare const client: Client<typeof calc>;
declare const server: Server<typeof calc>;
declare const worker: Worker<typeof calc>;
declare const vclient: Client<typeof valibotChannel>;

describe('types flow from the contract to both sides', () => {
  it('types rpc inputs and outputs on the client', () => {
    expectTypeOf(client.rpc.add).parameter(0).toEqualTypeOf<{ a: number; b: number }>();
    expectTypeOf(client.rpc.add).returns.toEqualTypeOf<Promise<number>>();
    // The output schema's *output* type reaches the caller (transform: string -> number).
    expectTypeOf(client.rpc.parse).returns.toEqualTypeOf<Promise<number>>();
    // The input schema's *input* type is what the caller passes (default makes n optional).
    expectTypeOf(client.rpc.withDefault).parameter(0).toEqualTypeOf<{ n?: number | undefined }>();
    expectTypeOf(vclient.rpc.shout).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(worker.rpc.add).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(worker.process.pid).toEqualTypeOf<number | undefined>();
    // @ts-expect-error wrong input type
    void client.rpc.add({ a: '1', b: 2 });
    // @ts-expect-error not a method of the channel
    void client.rpc.sub;
    // @ts-expect-error streams are not rpc methods
    void client.rpc.count;
  });

  it('types streams and events', () => {
    expectTypeOf(client.stream.count).parameter(0).toEqualTypeOf<{ to: number }>();
    expectTypeOf(client.stream.count).returns.toMatchTypeOf<AsyncIterable<number>>();
    client.on('tick', (e) => expectTypeOf(e).toEqualTypeOf<{ n: number }>());
    // @ts-expect-error unknown event
    client.on('tock', () => {});
    server.emit('tick', { n: 1 });
    // @ts-expect-error wrong payload
    server.emit('tick', { n: 'one' });
  });

  it('types handlers: validated input in, schema input type out', () => {
    type H = Handlers<typeof calc>;
    expectTypeOf<Parameters<H['add']>[0]>().toEqualTypeOf<{ a: number; b: number }>();
    expectTypeOf<Parameters<H['add']>[1]>().toEqualTypeOf<HandlerContext>();
    // withDefault's handler sees the parsed value: n is always there.
    expectTypeOf<Parameters<H['withDefault']>[0]>().toEqualTypeOf<{ n: number }>();
    expectTypeOf<ReturnType<H['add']>>().toEqualTypeOf<number | Promise<number>>();
    expectTypeOf<ReturnType<H['count']>>().toEqualTypeOf<AsyncIterable<number> | Iterable<number>>();
    const ok: H = {
      add: ({ a, b }) => a + b,
      parse: (s) => s,
      withDefault: () => {},
      count: async function* ({ to }) {
        for (let i = 0; i < to; i++) yield i;
      },
    };
    void ok;
    // @ts-expect-error a handler returning the wrong type
    const bad: H = { ...ok, add: () => 'three' };
    void bad;
  });

  it('makes an input optional when its schema accepts undefined', () => {
    const optional = defineChannel({
      name: 'opt',
      version: 1,
      rpc: {
        greet: { input: z.string().optional(), output: z.string() },
        strict: { input: z.string(), output: z.string() },
      },
      streams: { watch: { input: z.object({ from: z.number() }).optional(), output: z.number() } },
    });
    const c = null as unknown as Client<typeof optional>;
    void c.rpc.greet();
    void c.rpc.greet(undefined, { timeoutMs: 10 });
    void c.rpc.greet('ada');
    expectTypeOf(c.rpc.greet).parameter(0).toEqualTypeOf<string | undefined>();
    void c.stream.watch();
    void c.stream.watch({ from: 1 }, { timeoutMs: 1000, idleTimeoutMs: 100 });
    // @ts-expect-error a required input stays required
    void c.rpc.strict();
    // @ts-expect-error a required input stays required
    void client.rpc.add();
  });

  it("types error codes: procwire's and the declared ones, never a misspelt one", () => {
    const e = new ProcwireError('OUT_OF_STOCK', 'none left');
    expectTypeOf(e.code).toEqualTypeOf<ErrorCodeString>();
    void (e.code === 'TIMEOUT');
    void (e.code === 'OUT_OF_STOCK');
    // @ts-expect-error no such code
    void (e.code === 'TIMEOUTT');
    // Codes the types do not know (a foreign peer's) are still tested at run time.
    void ProcwireError.is(e, 'SOMETHING_ELSE');
  });

  it('disposes with await using', () => {
    expectTypeOf(client[Symbol.asyncDispose]).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(server[Symbol.asyncDispose]).returns.toEqualTypeOf<Promise<void>>();
  });
});
