/**
 * Every error a server answers with is a typed ProcwireError for the call it
 * belongs to: an input schema that throws (synchronously, or by rejecting
 * from an async refinement) is INVALID_INPUT, as a throwing output schema is
 * INVALID_OUTPUT on the client; and nothing thrown while a request or stream
 * open is taken escapes the link's callback: the id is answered instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createClient,
  createServer,
  defineChannel,
  ErrorCode,
  ProcwireError,
  type Client,
  type Server,
  type ServerOptions,
} from '@procwire/core';
import { MemoryAcceptor, MemoryLink } from '../../../test/helpers/memoryLink.ts';

const boom = new Error('schema bug');

/** A Standard Schema whose validate throws synchronously (zod turns a throwing transform into a rejection). */
const throwingSchema = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (): never => {
      throw boom;
    },
  },
} as unknown as z.ZodType<number>;

/**
 * A Standard Schema whose validation rejects, as an async refinement that
 * fails does (zod's own async refine is not used: its synchronous first pass
 * leaves a rejection of its own unhandled).
 */
const rejectingSchema = {
  '~standard': { version: 1, vendor: 'test', validate: () => Promise.reject(boom) },
} as unknown as z.ZodType<number>;

const channel = defineChannel({
  name: 'inputs',
  version: 1,
  rpc: {
    syncThrow: {
      input: z.number().transform((): number => {
        throw boom;
      }),
      output: z.number(),
    },
    asyncReject: { input: rejectingSchema, output: z.number() },
    rawThrow: { input: throwingSchema, output: z.number() },
    fails: { input: z.number(), output: z.number() },
    ok: { input: z.number(), output: z.number() },
  },
  streams: {
    syncThrowStream: {
      input: z.number().transform((): number => {
        throw boom;
      }),
      output: z.number(),
    },
    rawThrowStream: { input: throwingSchema, output: z.number() },
    asyncRejectStream: { input: rejectingSchema, output: z.number() },
  },
});

const handlers = {
  syncThrow: (n: number) => n,
  asyncReject: (n: number) => n,
  rawThrow: (n: number) => n,
  fails: (): number => {
    throw new Error('handler bug');
  },
  ok: (n: number) => n + 1,
  syncThrowStream: async function* (n: number) {
    yield n;
  },
  rawThrowStream: async function* (n: number) {
    yield n;
  },
  asyncRejectStream: async function* (n: number) {
    yield n;
  },
} as never;

const open: Array<{ client: Client<typeof channel>; server: Server<typeof channel> }> = [];
let serverEnd: MemoryLink;

async function pair(options: ServerOptions = {}): Promise<Client<typeof channel>> {
  const acceptor = new MemoryAcceptor();
  const server = createServer(channel, handlers, acceptor, options);
  const [s, c] = MemoryLink.pair();
  serverEnd = s;
  acceptor.connect(s);
  const client = await createClient(channel, c, { heartbeatMs: 0, callTimeoutMs: 5000 });
  open.push({ client, server });
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<ProcwireError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProcwireError);
  return error as ProcwireError;
}

async function streamError(iterable: AsyncIterable<unknown>): Promise<ProcwireError> {
  return rejection(
    (async () => {
      for await (const _ of iterable) void _;
    })(),
  );
}

afterEach(async () => {
  for (const { client, server } of open.splice(0)) {
    await client.close();
    await server.close();
  }
});

describe('server input schemas that throw', () => {
  for (const method of ['syncThrow', 'asyncReject', 'rawThrow'] as const) {
    it(`rpc ${method}: INVALID_INPUT, and the connection keeps serving`, async () => {
      const client = await pair();
      const error = await rejection(client.rpc[method](1));
      expect(error.code).toBe(ErrorCode.INVALID_INPUT);
      expect(error.message).toContain('schema bug');
      expect(serverEnd.callbackErrors).toEqual([]);
      expect(await client.rpc.ok(1)).toBe(2);
    });

    it(`stream ${method}: INVALID_INPUT, and the connection keeps serving`, async () => {
      const client = await pair();
      const error = await streamError(client.stream[`${method}Stream`](1));
      expect(error.code).toBe(ErrorCode.INVALID_INPUT);
      expect(error.message).toContain('schema bug');
      expect(serverEnd.callbackErrors).toEqual([]);
      expect(await client.rpc.ok(1)).toBe(2);
    });
  }

  it('with exposeHandlerErrors: false the thrown message stays on the server', async () => {
    const client = await pair({ exposeHandlerErrors: false });
    const error = await rejection(client.rpc.syncThrow(1));
    expect(error.code).toBe(ErrorCode.INVALID_INPUT);
    expect(error.message).not.toContain('schema bug');
  });
});

describe('a throw while a request is taken', () => {
  it('an onHandlerError that throws does not escape: the call is answered with HANDLER_ERROR', async () => {
    const client = await pair({
      onHandlerError: () => {
        throw new Error('logger bug');
      },
    });
    const error = await rejection(client.rpc.fails(1));
    expect(error.code).toBe(ErrorCode.HANDLER_ERROR);
    expect(serverEnd.callbackErrors).toEqual([]);
    expect(await client.rpc.ok(1)).toBe(2);
  });
});
