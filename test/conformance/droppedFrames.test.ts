/**
 * A frame the receiver has to drop (it passes the structural checks but
 * cannot be decoded, or it breaks a limit on a link that drops only that
 * frame) must still end the call or stream it belongs to, with an error,
 * whenever its msgid can be read: never a call that waits for its timeout,
 * a stream that hangs, or a stream that silently loses an item. Both
 * directions, over every transport, across processes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, type ProcwireError, spawn, type Client } from 'procwire';
import { decode, DEFAULT_FRAME_LIMITS, encode, FrameDelimiter, MessageType, resolveEndpoint } from 'procwire/link';
import { calc } from '../fixtures/calc.js';
import { makeShape } from '../fixtures/shapes.js';
import { drainStream } from '../helpers/errors.js';
import { FIXTURE_EXEC_ARGV, fixturePath, startServerProcess, type ServerProcess } from '../helpers/processes.js';
import { endpointKinds, type Peer } from './endpoints.js';

/** {[1]: 2}: a map keyed by an array, which msgpackr cannot decode. */
const UNDECODABLE = Buffer.from([0x81, 0x91, 0x01, 0x02]);

/** `[type, id, ...rest, <undecodable>]` as bytes. */
function withUndecodable(type: number, id: number, ...rest: unknown[]): Buffer {
  const head = encode([type, id, ...rest, null]);
  return Buffer.concat([head.subarray(0, head.length - 1), UNDECODABLE]);
}

for (const kind of endpointKinds) {
  describe.skipIf(!kind.available)(`dropped frames reaching a client over ${kind.name}`, () => {
    let server: ServerProcess | undefined;
    let client: Client<typeof calc>;
    const reports: ProcwireError[] = [];
    beforeAll(async () => {
      const onError = (error: ProcwireError) => reports.push(error);
      if (kind.url) {
        server = await startServerProcess(kind.url(), 'undecodableServer.ts');
        client = await connect(calc, server.url, { onError });
      } else {
        const via = `${kind.name}:` as 'socketpair:' | 'pipe:';
        client = await spawn(calc, fixturePath('undecodableServer.ts'), { via, execArgv: [...FIXTURE_EXEC_ARGV], onError });
      }
    });
    afterAll(async () => {
      await client?.close();
      await server?.kill();
    });

    it('an undecodable response fails its call with PROTOCOL at once', async () => {
      const error = await client.rpc.echo(1, { timeoutMs: 5000 }).then(
        () => undefined,
        (e: ProcwireError) => e,
      );
      expect(error?.code).toBe(ErrorCode.PROTOCOL);
      expect(await client.rpc.add({ a: 1, b: 2 })).toBe(3);
      expect(reports.length).toBeGreaterThan(0);
    });

    it('an undecodable stream item ends its stream with PROTOCOL and stops the producer; so does an undecodable end', async () => {
      const cancelled = new Promise<number>((resolve) => client.once('tick', ({ n }) => resolve(n)));
      const count = await drainStream(client.stream.count({ to: 3 }, { signal: AbortSignal.timeout(5000) }));
      expect(count.items).toEqual([0]);
      expect(count.error?.code).toBe(ErrorCode.PROTOCOL);
      // The server heard the CANCEL for that stream.
      expect(typeof (await cancelled)).toBe('number');
      const failing = await drainStream(client.stream.failAfter({ n: 1 }, { signal: AbortSignal.timeout(5000) }));
      expect(failing.items).toEqual([0]);
      expect(failing.error?.code).toBe(ErrorCode.PROTOCOL);
      expect(await client.rpc.add({ a: 2, b: 2 })).toBe(4);
    });
  });

  describe.skipIf(!kind.available || !kind.acceptsOtherClients)(`dropped frames reaching a server over ${kind.name}`, () => {
    let peer: Peer;
    beforeAll(async () => {
      peer = await kind.start();
    });
    afterAll(async () => {
      await peer?.stop();
    });

    it('an undecodable request or stream open whose msgid can be read is answered with PROTOCOL', async () => {
      const { endpoint, transport } = resolveEndpoint(peer.url);
      const raw = await transport.connect(endpoint, {});
      const received: unknown[][] = [];
      let closed = false;
      const splitter = new FrameDelimiter(DEFAULT_FRAME_LIMITS);
      raw.start({
        frames: (source, start, end) =>
          splitter.push(source.subarray(start, end), (frame) => void received.push(decode(frame) as unknown[])),
        drain() {},
        close: () => {
          closed = true;
        },
      });
      const first = async (match: (m: unknown[]) => boolean) => {
        const until = performance.now() + 5000;
        while (!received.some(match) && !closed && performance.now() < until) await sleep(10);
        return received.find(match);
      };
      const answerTo = (type: number, id: number) => first((m) => m[0] === type && m[1] === id);
      // A message link may pack the frames of one tick into one message: one frame per tick here.
      const tick = () => new Promise((resolve) => setImmediate(resolve));
      raw.send(encode([MessageType.HELLO, { procwire: 1, channel: 'calc', version: 1 }]));
      expect(await first((m) => m[0] === MessageType.HELLO)).toBeDefined();
      raw.send(withUndecodable(MessageType.REQUEST, 7, 'calc.echo'));
      const response = await answerTo(MessageType.RESPONSE, 7);
      expect(response?.[2]).toMatchObject({ code: ErrorCode.PROTOCOL });
      await tick();
      // [5, 8, "calc.count", [<undecodable>], 4]
      const head = encode([MessageType.STREAM_OPEN, 8, 'calc.count', [null], 4]);
      const nil = head.lastIndexOf(0xc0);
      raw.send(Buffer.concat([head.subarray(0, nil), UNDECODABLE, head.subarray(nil + 1)]));
      const end = await answerTo(MessageType.STREAM_END, 8);
      expect(end?.[2]).toMatchObject({ code: ErrorCode.PROTOCOL });
      if (raw.capabilities.preservesBoundaries) {
        // A link that drops only the bad frame: a request past maxDepth is answered, not lost.
        await tick();
        raw.send(encode([MessageType.REQUEST, 9, 'calc.echo', [makeShape('deep', 100)]]));
        const deep = await answerTo(MessageType.RESPONSE, 9);
        expect(deep?.[2]).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE, data: { limit: 'maxDepth', value: 64 } });
      }
      raw.destroy();
      expect(await peer.client.rpc.add({ a: 20, b: 22 })).toBe(42);
    });
  });
}
