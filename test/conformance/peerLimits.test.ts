/**
 * A value that breaks a limit only the receiver enforces (nesting depth,
 * element count, a client's lower frame size), or that the codec encodes but
 * cannot decode (a Map keyed by an object), fails alone where it is sent:
 * that call, stream or event gets a typed error, and the connection and
 * everything else on it go on. Over every transport, across processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, ProcwireError, type Client } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { makeShape } from '../fixtures/shapes.js';
import { drainStream } from '../helpers/errors.js';
import { endpointKinds, type Peer } from './endpoints.js';

async function failure(promise: Promise<unknown>): Promise<ProcwireError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProcwireError);
    return error as ProcwireError;
  }
  throw new Error('expected a failure');
}

/** Limits of the second client, announced in its hello. */
const LOW = { maxFrameBytes: 1024 * 1024, maxDepth: 16, maxElements: 1000 };
/** A call that would hang without the fix fails on this instead of the 30 s default. */
const SOON = { timeoutMs: 5000 };

for (const kind of endpointKinds) {
  describe.skipIf(!kind.available)(`receiver limits over ${kind.name}`, () => {
    let peer: Peer;
    let client: Client<typeof calc>;
    let low: Client<typeof calc>;
    beforeAll(async () => {
      peer = await kind.start();
      client = peer.client;
      low = await peer.connectWith(calc, { limits: LOW });
    });
    afterAll(async () => {
      await low?.close();
      await peer?.stop();
    });

    it("a request past the server's depth or element limit fails alone with FRAME_TOO_LARGE", async () => {
      const running = client.rpc.sleep({ ms: 300 });
      const wide = await failure(client.rpc.echo(makeShape('wide', 100_000), SOON));
      expect([wide.code, wide.data]).toEqual([ErrorCode.FRAME_TOO_LARGE, { limit: 'maxElements', value: 100_000 }]);
      const deep = await failure(client.rpc.echo(makeShape('deep', 70), SOON));
      expect([deep.code, deep.data]).toEqual([ErrorCode.FRAME_TOO_LARGE, { limit: 'maxDepth', value: 64 }]);
      const open = await drainStream(
        client.stream.count({ to: 3, extra: makeShape('deep', 70) } as never, { signal: AbortSignal.timeout(5000) }),
      );
      expect([open.error?.code, open.error?.data]).toEqual([ErrorCode.FRAME_TOO_LARGE, { limit: 'maxDepth', value: 64 }]);
      expect(await running).toBe('done');
      expect(await client.rpc.add({ a: 1, b: 2 })).toBe(3);
    });

    it("a reply, stream item or event past a client's announced limits fails alone", async () => {
      const tooBig = await failure(low.rpc.bytes({ size: 2 * 1024 * 1024 }, SOON));
      expect([tooBig.code, tooBig.data]).toEqual([ErrorCode.FRAME_TOO_LARGE, { limit: 'maxFrameBytes', value: LOW.maxFrameBytes }]);
      const deep = await failure(low.rpc.shape({ kind: 'deep', size: 20 }, SOON));
      expect([deep.code, deep.data]).toEqual([ErrorCode.FRAME_TOO_LARGE, { limit: 'maxDepth', value: LOW.maxDepth }]);
      const wide = await failure(low.rpc.shape({ kind: 'wide', size: 2000 }, SOON));
      expect([wide.code, wide.data]).toEqual([ErrorCode.FRAME_TOO_LARGE, { limit: 'maxElements', value: LOW.maxElements }]);
      const stream = await drainStream(low.stream.shapes({ kind: 'deep', size: 20, after: 2 }, { signal: AbortSignal.timeout(5000) }));
      expect(stream.items).toEqual([0, 1]);
      expect([stream.error?.code, stream.error?.data]).toEqual([ErrorCode.FRAME_TOO_LARGE, { limit: 'maxDepth', value: LOW.maxDepth }]);

      const blobs: unknown[] = [];
      low.on('blob', (blob) => blobs.push(blob));
      const seen = kind.acceptsOtherClients ? new Promise((resolve) => client.once('blob', resolve)) : undefined;
      // The event goes to the client with default limits only.
      const emitted = await low.rpc.emitShape({ kind: 'deep', size: 20 });
      expect(emitted).toEqual({ sent: kind.acceptsOtherClients ? 1 : 0 });
      if (seen) expect(await seen).toEqual(makeShape('deep', 20));
      // What fits still arrives, after the one that did not.
      await low.rpc.emitShape({ kind: 'fine', size: 1 });
      for (let tries = 0; tries < 100 && blobs.length === 0; tries++) await new Promise((r) => setTimeout(r, 20));
      expect(blobs).toEqual([{ size: 1 }]);
      expect(await low.rpc.add({ a: 2, b: 2 })).toBe(4);
    });

    it("an event past the server's own limits throws from emit and reaches no one", async () => {
      expect(await client.rpc.emitShape({ kind: 'deep', size: 70 })).toEqual({ sent: 0, code: ErrorCode.FRAME_TOO_LARGE });
      expect(await client.rpc.emitShape({ kind: 'wide', size: 100_000 })).toEqual({ sent: 0, code: ErrorCode.FRAME_TOO_LARGE });
      expect(await client.rpc.add({ a: 20, b: 22 })).toBe(42);
      expect(await low.rpc.add({ a: 20, b: 22 })).toBe(42);
    });

    it('a Map keyed by an object is refused where it is encoded, never lost on the way', async () => {
      const map = makeShape('badMap', 1);
      expect((await failure(client.rpc.echo(map, SOON))).code).toBe(ErrorCode.INVALID_ARGUMENT);
      const open = await drainStream(client.stream.count({ to: 3, map } as never, { signal: AbortSignal.timeout(5000) }));
      expect(open.error?.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect((await failure(client.rpc.shape({ kind: 'badMap', size: 1 }, SOON))).code).toBe(ErrorCode.HANDLER_ERROR);
      const stream = await drainStream(client.stream.shapes({ kind: 'badMap', size: 1, after: 2 }, { signal: AbortSignal.timeout(5000) }));
      expect(stream.items).toEqual([0, 1]);
      expect(stream.error?.code).toBe(ErrorCode.HANDLER_ERROR);
      expect(await client.rpc.emitShape({ kind: 'badMap', size: 1 })).toEqual({ sent: 0, code: ErrorCode.INVALID_ARGUMENT });
      expect(await client.rpc.add({ a: 1, b: 1 })).toBe(2);
    });
  });
}
