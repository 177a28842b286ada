/**
 * The one conformance suite every transport must pass: the same calls,
 * events, streams, errors and failure behaviour, across real processes.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineChannel, ErrorCode, ProcwireError, type Client } from 'procwire';
import {
  checkFrame,
  decode,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_PENDING_CALLS,
  encode,
  MessageType,
  resolveEndpoint,
  resolveFrameLimits,
} from 'procwire/link';
import { calc } from '../fixtures/calc.js';
import { rejection } from '../helpers/errors.js';
import { watchLoopLag } from '../helpers/loopLag.js';
import { FIXTURE_EXEC_ARGV, fixturePath } from '../helpers/processes.js';
import type { EndpointKind, Peer } from './endpoints.js';

/** Whether `bytes` is `size` bytes, every one of them `value`. */
function filledWith(bytes: Uint8Array, size: number, value: number): boolean {
  if (bytes.byteLength !== size) return false;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(Buffer.alloc(size, value));
}

/** The default ring of `shm:` (ringBytes): payloads above it go through the ring in pieces. */
const SHM_RING_BYTES = 1024 * 1024;

/** Waits (checking every 20 ms) until `condition` holds, for at most `timeoutMs`; then returns whether it holds. */
async function eventually(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<boolean> {
  for (const deadline = performance.now() + timeoutMs; performance.now() < deadline; await sleep(20)) {
    if (await condition()) return true;
  }
  return condition();
}

export function conformanceSuite(kind: EndpointKind): void {
  describe.skipIf(!kind.available)(`conformance: ${kind.name}`, () => {
    let peer: Peer;
    let client: Client<typeof calc>;
    beforeAll(async () => {
      peer = await kind.start();
      client = peer.client;
    });
    afterAll(async () => {
      await peer?.stop();
    });

    it('calls a method and gets a typed result', async () => {
      expect(await client.rpc.add({ a: 1, b: 2 })).toBe(3);
    });

    it('keeps the order of many calls in flight and of stream items', async () => {
      // As many as the default maxPendingCalls (1024) lets one client have in flight.
      const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.rpc.add({ a: i, b: 0 })));
      expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      const items: number[] = [];
      for await (const n of client.stream.count({ to: 3000 })) items.push(n);
      expect(items).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    });

    it('runs many slow calls concurrently', async () => {
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 300 }, () => client.rpc.sleep({ ms: 200 })));
      expect(results.every((r) => r === 'done')).toBe(true);
      // Serialised they would take 60 s; run together, 0.2 s plus the work (seconds on a busy machine).
      expect(performance.now() - started).toBeLessThan(20_000);
    });

    it('carries binary payloads as bytes, up to the frame limit', async () => {
      const size = DEFAULT_MAX_FRAME_BYTES - 1024;
      const big = new Uint8Array(size);
      for (let i = 0; i < size; i += 4096) big[i] = i & 0xff;
      const echoed = await client.rpc.echo(big);
      expect(echoed).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(Buffer.from(echoed as Uint8Array), Buffer.from(big))).toBe(0);
      const made = await client.rpc.bytes({ size: 1024 * 1024 });
      expect(made.length).toBe(1024 * 1024);
      expect(made[1000]).toBe(7);
    });

    it('refuses frames above the limit with FRAME_TOO_LARGE, and keeps working', async () => {
      const tooBig = new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1);
      expect((await rejection(client.rpc.echo(tooBig))).code).toBe(ErrorCode.FRAME_TOO_LARGE);
      const answer = await rejection(client.rpc.bytes({ size: DEFAULT_MAX_FRAME_BYTES + 10 }));
      expect(answer.code).toBe(ErrorCode.FRAME_TOO_LARGE);
      expect(await client.rpc.add({ a: 2, b: 2 })).toBe(4);
    });

    it('times out with TIMEOUT and aborts the handler', async () => {
      const before = await client.rpc.stats();
      const error = await rejection(client.rpc.sleep({ ms: 10_000 }, { timeoutMs: 50 }));
      expect(error.code).toBe(ErrorCode.TIMEOUT);
      // The CANCEL reaches the handler after the timeout: wait for it.
      await eventually(async () => (await client.rpc.stats()).cancelled > before.cancelled);
      expect((await client.rpc.stats()).cancelled).toBe(before.cancelled + 1);
    });

    it('cancels with an AbortSignal that reaches the handler', async () => {
      const before = await client.rpc.stats();
      const controller = new AbortController();
      const call = client.rpc.sleep({ ms: 10_000 }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 30);
      expect((await rejection(call)).code).toBe(ErrorCode.CANCELLED);
      await eventually(async () => (await client.rpc.stats()).cancelled > before.cancelled);
      expect((await client.rpc.stats()).cancelled).toBe(before.cancelled + 1);
      const aborted = AbortSignal.abort();
      expect((await rejection(client.rpc.add({ a: 1, b: 1 }, { signal: aborted }))).code).toBe(ErrorCode.CANCELLED);
    });

    it('delivers typed events', async () => {
      const got = new Promise<{ n: number }>((resolve) => client.once('tick', resolve));
      await client.rpc.emitTick({ n: 42 });
      expect(await got).toEqual({ n: 42 });
    });

    it('delivers a burst of events completely and in order', async () => {
      const seen: number[] = [];
      const all = new Promise<void>((resolve) => {
        const listener = ({ n }: { n: number }) => {
          seen.push(n);
          if (seen.length === 20_000) {
            client.off('tick', listener);
            resolve();
          }
        };
        client.on('tick', listener);
      });
      await client.rpc.emitTicks({ count: 20_000 });
      await all;
      expect(seen).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    });

    it('validates input on the server (INVALID_INPUT) and output on the client (INVALID_OUTPUT)', async () => {
      const bad = await rejection(client.rpc.add({ a: 'one', b: 2 } as never));
      expect(bad.code).toBe(ErrorCode.INVALID_INPUT);
      expect(bad.message).toMatch(/calc\.add/);
      expect((await rejection(client.rpc.lies())).code).toBe(ErrorCode.INVALID_OUTPUT);
    });

    it('reports handler errors with stable codes', async () => {
      const plain = await rejection(client.rpc.fail({ message: 'boom' }));
      expect([plain.code, plain.message]).toEqual([ErrorCode.HANDLER_ERROR, 'boom']);
      const own = await rejection(client.rpc.fail({ code: 'OUT_OF_STOCK', message: 'none left' }));
      expect([own.code, own.message]).toEqual(['OUT_OF_STOCK', 'none left']);
    });

    it('answers METHOD_NOT_FOUND for a method the server does not have', async () => {
      const wider = defineChannel({
        name: 'calc',
        version: 1,
        rpc: { nope: { input: z.void(), output: z.void() } },
      });
      const other = await peer.connectWith(wider);
      try {
        expect((await rejection(other.rpc.nope())).code).toBe(ErrorCode.METHOD_NOT_FOUND);
      } finally {
        await other.close();
      }
    });

    it('refuses a client of another channel version with VERSION_MISMATCH', async () => {
      const v2 = defineChannel({ ...calc, version: 2 });
      const error = await rejection(peer.connectWith(v2));
      expect(error.code).toBe(ErrorCode.VERSION_MISMATCH);
      expect(error.message).toMatch(/version 1/);
      expect(error.message).toMatch(/version 2/);
    });

    it('ends a stream with the producer error, typed', async () => {
      const items: number[] = [];
      const error = await rejection(
        (async () => {
          for await (const n of client.stream.failAfter({ n: 3 })) items.push(n);
        })(),
      );
      expect(items).toEqual([0, 1, 2]);
      expect(error.code).toBe('STREAM_BROKE');
    });

    it('answers concurrent next() calls in turn, and settles pending ones on return() and throw()', async () => {
      const iterator = client.stream.count({ to: 5 })[Symbol.asyncIterator]();
      const first = await Promise.all([iterator.next(), iterator.next(), iterator.next()]);
      expect(first).toEqual([0, 1, 2].map((value) => ({ done: false, value })));
      const rest = await Promise.all([iterator.next(), iterator.next(), iterator.next(), iterator.next()]);
      expect(rest).toEqual([
        { done: false, value: 3 },
        { done: false, value: 4 },
        { done: true, value: undefined },
        { done: true, value: undefined },
      ]);
      const before = await client.rpc.stats();
      const silent = client.stream.drip({ items: 1, gapMs: 60_000 })[Symbol.asyncIterator]();
      const pending = [silent.next(), silent.next(), silent.next()];
      await silent.return!();
      expect(await Promise.all(pending)).toEqual(Array.from({ length: 3 }, () => ({ done: true, value: undefined })));
      const thrown = client.stream.drip({ items: 1, gapMs: 60_000 })[Symbol.asyncIterator]();
      const waiting = [thrown.next(), thrown.next()];
      const stopped = await thrown.throw!(new Error('stop')).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(stopped).toBeInstanceOf(Error);
      expect((stopped as Error).message).toBe('stop');
      expect(await Promise.all(waiting)).toEqual(Array.from({ length: 2 }, () => ({ done: true, value: undefined })));
      // Both producers were stopped.
      expect(await eventually(async () => (await client.rpc.stats()).cancelled === before.cancelled + 2)).toBe(true);
    });

    it('ends a stream with TIMEOUT after idleTimeoutMs of silence or timeoutMs in all, and stops its producer', async () => {
      const before = await client.rpc.stats();
      const idle = client.stream.drip({ items: 3, gapMs: 60_000 }, { idleTimeoutMs: 200 });
      const idleError = await rejection(
        (async () => {
          for await (const _ of idle);
        })(),
      );
      expect([idleError.code, idleError.message]).toEqual([ErrorCode.TIMEOUT, 'calc.drip sent no item within idleTimeoutMs (200 ms)']);
      const items: number[] = [];
      const whole = client.stream.drip({ items: 100_000, gapMs: 10 }, { timeoutMs: 500, idleTimeoutMs: 20_000 });
      const wholeError = await rejection(
        (async () => {
          for await (const n of whole) items.push(n);
        })(),
      );
      expect([wholeError.code, wholeError.message]).toEqual([ErrorCode.TIMEOUT, 'calc.drip did not end within timeoutMs (500 ms)']);
      expect(items.length).toBeLessThan(100_000);
      expect(await eventually(async () => (await client.rpc.stats()).cancelled === before.cancelled + 2)).toBe(true);
      let refused: unknown;
      try {
        client.stream.count({ to: 1 }, { idleTimeoutMs: -1 });
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(ProcwireError);
      expect((refused as ProcwireError).message).toMatch(/idleTimeoutMs/);
    });

    it('shares one AbortSignal among many calls and streams without a listener per call', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const shared = new AbortController();
        const sums = await Promise.all(Array.from({ length: 30 }, (_, i) => client.rpc.add({ a: i, b: 1 }, { signal: shared.signal })));
        expect(sums).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        const calls = Array.from({ length: 30 }, () => rejection(client.rpc.sleep({ ms: 60_000 }, { signal: shared.signal })));
        const streams = Array.from({ length: 30 }, () =>
          rejection(client.stream.drip({ items: 1, gapMs: 60_000 }, { signal: shared.signal })[Symbol.asyncIterator]().next()),
        );
        await sleep(50);
        shared.abort();
        const errors = await Promise.all([...calls, ...streams]);
        expect(errors.every((e) => e.code === ErrorCode.CANCELLED)).toBe(true);
        await sleep(20); // process warnings are emitted on a later tick
        expect(warnings.some((w) => w.name === 'MaxListenersExceededWarning')).toBe(false);
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('delivers events in arrival order when their schema is asynchronous', async () => {
      const evensSlow = defineChannel({
        ...calc,
        events: {
          tick: z.object({ n: z.number() }).refine(async ({ n }) => {
            if (n % 2 === 0) await sleep(2);
            return true;
          }),
        },
      });
      const other = await peer.connectWith(evensSlow);
      try {
        const seen: number[] = [];
        const all = new Promise<void>((resolve) =>
          other.on('tick', ({ n }) => {
            seen.push(n);
            if (seen.length === 200) resolve();
          }),
        );
        await other.rpc.emitTicks({ count: 200 });
        await all;
        expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
      } finally {
        await other.close();
      }
    });

    it('turns a client-side schema that throws into INVALID_OUTPUT: calls and stream items reject, events reach onError', async () => {
      const boom = (): never => {
        throw new Error('schema boom');
      };
      const throwing = defineChannel({
        ...calc,
        rpc: {
          ...calc.rpc,
          add: { input: calc.rpc.add.input, output: z.number().transform(boom) },
        },
        streams: { ...calc.streams, count: { input: calc.streams.count.input, output: z.number().transform(boom) } },
        // (An async refinement that rejects would do too, but zod's own first, synchronous try leaves that rejection unhandled.)
        events: { tick: z.object({ n: z.number() }).transform(({ n }) => (n === 2 ? boom() : { n })) },
      });
      const reported: ProcwireError[] = [];
      const other = await peer.connectWith(throwing, { callTimeoutMs: 5000, onError: (error) => reported.push(error) });
      try {
        const counting = (async () => {
          for await (const _ of other.stream.count({ to: 3 }));
        })();
        for (const outcome of [other.rpc.add({ a: 1, b: 2 }), counting]) {
          const error = await rejection(outcome);
          expect(error.code).toBe(ErrorCode.INVALID_OUTPUT);
          expect((error.cause as Error).message).toBe('schema boom');
        }
        const ticks: number[] = [];
        other.on('tick', ({ n }) => ticks.push(n));
        for (const n of [1, 2, 3]) await other.rpc.emitTick({ n });
        expect(await eventually(async () => ticks.length === 2 && reported.length === 1)).toBe(true);
        expect(ticks).toEqual([1, 3]);
        expect([reported[0]!.code, (reported[0]!.cause as Error).message]).toEqual([ErrorCode.INVALID_OUTPUT, 'schema boom']);
        expect(reported[0]!.message).toMatch(/calc\.tick/);
      } finally {
        await other.close();
      }
    });

    it('carries undefined array elements, and runs schemas that transform even with validate: false', async () => {
      const holes = defineChannel({ ...calc, rpc: { ...calc.rpc, echo: { input: z.unknown(), output: z.array(z.number().optional()) } } });
      const other = await peer.connectWith(holes);
      try {
        // Entries tell an undefined element from null and from a hole.
        expect(Object.entries(await other.rpc.echo([1, undefined, 2]))).toEqual([
          ['0', 1],
          ['1', undefined],
          ['2', 2],
        ]);
      } finally {
        await other.close();
      }
      const parsing = defineChannel({
        ...calc,
        rpc: { ...calc.rpc, echo: { input: z.unknown(), output: z.string().transform((s) => s.length) } },
      });
      const unchecked = await peer.connectWith(parsing, { validate: false });
      try {
        expect(await unchecked.rpc.echo('four')).toBe(4);
        // Schemas that only check are still skipped.
        expect(await unchecked.rpc.lies()).toBe('not a number');
      } finally {
        await unchecked.close();
      }
    });

    it('stops a producer whose reader stops reading (credit backpressure)', async () => {
      const before = await client.rpc.stats();
      const stream = client.stream.forever({ size: 1024 }, { window: 16 });
      const iterator = stream[Symbol.asyncIterator]();
      for (let i = 0; i < 5; i++) await iterator.next();
      await sleep(300);
      const during = await client.rpc.stats();
      // The producer may run ahead by at most the window.
      expect(during.produced - before.produced).toBeLessThanOrEqual(5 + 16 + 1);
      await iterator.return!();
      await eventually(async () => (await client.rpc.stats()).cancelled > before.cancelled);
      expect((await client.rpc.stats()).cancelled).toBeGreaterThan(before.cancelled);
    });

    // A large binary payload may be read from the sender's own buffer after
    // the send (shm: rings take it straight from there, piece by piece): the
    // sender must not see its buffer read once it is allowed to change it.
    for (const size of [3 * SHM_RING_BYTES, SHM_RING_BYTES / 8]) {
      for (const window of [1, 2, 64]) {
        it(`stream items keep their own bytes while the producer refills one buffer (${size} B items, window ${window})`, async () => {
          const count = size > SHM_RING_BYTES ? 40 : 200;
          const wrong: number[] = [];
          let index = 0;
          for await (const item of client.stream.refilled({ count, size }, { window })) {
            if (!filledWith(item, size, index & 0xff)) wrong.push(index);
            index++;
          }
          expect(index).toBe(count);
          expect(wrong).toEqual([]);
        });
      }
    }

    it('replies keep their own bytes while the handler refills one buffer for every call', async () => {
      const size = 3 * SHM_RING_BYTES;
      const fills = Array.from({ length: 8 }, (_, i) => i + 1);
      const replies = await Promise.all(fills.map((fill) => client.rpc.sharedBytes({ fill, size })));
      expect(replies.map((reply, i) => filledWith(reply, size, fills[i]!))).toEqual(fills.map(() => true));
    });

    it('a call settled early (cancelled) never reads its input again: the caller may refill it at once', async () => {
      const size = 3 * SHM_RING_BYTES;
      const input = new Uint8Array(size);
      const before = (await client.rpc.inspected()).length;
      const fills = [1, 2, 3, 4, 5, 6];
      for (const fill of fills) {
        input.fill(fill);
        const controller = new AbortController();
        const call = client.rpc.inspect(input, { signal: controller.signal });
        controller.abort();
        expect((await rejection(call)).code).toBe(ErrorCode.CANCELLED);
      }
      // The requests still reach the server (their CANCEL follows them): wait until it has seen them all.
      let seen = (await client.rpc.inspected()).slice(before);
      for (const deadline = performance.now() + 20_000; seen.length < fills.length && performance.now() < deadline;) {
        await sleep(20);
        seen = (await client.rpc.inspected()).slice(before);
      }
      expect(seen).toEqual(fills.map((first) => ({ first, uniform: true })));
    });

    it.skipIf(!kind.acceptsOtherClients)(
      'rejects bad bytes (stream links: disconnect; message links: drop the frame) and keeps serving the others',
      async () => {
        const { endpoint, transport } = resolveEndpoint(peer.url);
        const goodRequest = encode([MessageType.REQUEST, 7, 'calc.add', [{ a: 1, b: 2 }]]);
        for (const garbage of [
          Buffer.from([0xc1]),
          Buffer.from([0x94, 0x00, 0x01, 0xdb, 0xff, 0xff, 0xff, 0xff]), // str32 claiming 4 GiB
          Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32 of 4 G elements
          Buffer.alloc(10_000, 0x91), // nesting 10,000 deep
        ]) {
          // A raw link of the same transport: bytes go out exactly as given.
          const raw = await transport.connect(endpoint, {});
          // Answers to the bad frame itself (when its msgid can still be read, PROTOCOL.md 2.4).
          const dropped: unknown[][] = [];
          let settle: (outcome: 'closed' | unknown[] | string) => void = () => {};
          const outcome = new Promise<'closed' | unknown[] | string>((resolve) => {
            settle = resolve;
            // Bounded, so a lost answer fails here and says so instead of running into the test timeout.
            setTimeout(
              () => resolve(`no answer to the good request and no close within 10 s (answers seen: ${JSON.stringify(dropped)})`),
              10_000,
            ).unref();
          });
          raw.start({
            frames: (source, start, end) => {
              // A message link passes one frame per call (LinkEvents.frames): a
              // second frame in the call would be lost to a one-frame receiver.
              if (raw.capabilities.preservesBoundaries) {
                try {
                  checkFrame(source.subarray(start, end), resolveFrameLimits(raw.capabilities));
                } catch (error) {
                  return settle(`a message link passed more than one frame in a call: ${(error as Error).message}`);
                }
              }
              const message = decode(source, start, end) as unknown[];
              if (message[1] === 7) settle(message);
              else dropped.push(message);
            },
            drain() {},
            close: () => settle('closed'),
          });
          try {
            raw.send(garbage);
            // A message link may pack frames of one tick into one message, and the
            // unit it can isolate is the message: send the good one in a later tick.
            await new Promise((resolve) => setImmediate(resolve));
            raw.send(goodRequest);
            if (raw.capabilities.preservesBoundaries) {
              // Each message starts clean: the bad frame is dropped, the next one served.
              expect(await outcome).toEqual([MessageType.RESPONSE, 7, null, 3]);
              // A bad frame whose msgid can be read is answered with a typed error, not left unanswered.
              for (const answer of dropped) {
                expect([answer.length, answer[0], answer[1], answer[3]]).toEqual([4, MessageType.RESPONSE, 1, null]);
                expect(String(answer[2])).toMatch(/^(FRAME_TOO_LARGE|PROTOCOL): /);
              }
            } else {
              // A byte stream cannot be resynchronised: the server hangs up.
              expect(await outcome).toBe('closed');
            }
          } finally {
            raw.destroy();
          }
        }
        expect(await client.rpc.add({ a: 20, b: 22 })).toBe(42);
      },
    );

    it.skipIf(!kind.acceptsOtherClients)(
      'a client process killed in the middle of a call: its handler is aborted, the others are served',
      async () => {
        const before = await client.rpc.stats();
        const caller = spawn(process.execPath, [...FIXTURE_EXEC_ARGV, fixturePath('slowCaller.ts'), peer.url], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const exited = new Promise((resolve) => caller.once('exit', resolve));
        await new Promise<void>((resolve, reject) => {
          caller.stdout!.once('data', () => resolve());
          caller.once('exit', (code) => reject(new Error(`the calling client exited early (${code})`)));
        });
        caller.kill('SIGKILL');
        await exited;
        // The server notices the dead client and aborts the handler of its call.
        await eventually(async () => (await client.rpc.stats()).cancelled > before.cancelled);
        expect((await client.rpc.stats()).cancelled).toBe(before.cancelled + 1);
        expect(await client.rpc.add({ a: 2, b: 40 })).toBe(42);
      },
    );

    it('refuses calls past maxPendingCalls with TOO_MANY_PENDING, on the client and on the server', async () => {
      // The client's own limit (default 1024) refuses the next call at once.
      const running = Array.from({ length: DEFAULT_MAX_PENDING_CALLS }, () => client.rpc.sleep({ ms: 300 }));
      const local = await rejection(client.rpc.add({ a: 1, b: 1 }));
      expect([local.code, local.data]).toEqual([
        ErrorCode.TOO_MANY_PENDING,
        { limit: 'maxPendingCalls', value: DEFAULT_MAX_PENDING_CALLS },
      ]);
      expect((await Promise.all(running)).every((r) => r === 'done')).toBe(true);
      // A client that allows itself more meets the server's limit (default 1024 per connection).
      const eager = await peer.connectWith(calc, { maxPendingCalls: 2000 });
      try {
        const outcomes = await Promise.allSettled(Array.from({ length: 1100 }, () => eager.rpc.sleep({ ms: 300 })));
        const refused = outcomes.filter((o) => o.status === 'rejected');
        expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBe(DEFAULT_MAX_PENDING_CALLS);
        expect(refused.length).toBe(1100 - DEFAULT_MAX_PENDING_CALLS);
        expect(refused.every((o) => (o.reason as ProcwireError).code === ErrorCode.TOO_MANY_PENDING)).toBe(true);
        expect(await eager.rpc.add({ a: 20, b: 22 })).toBe(42);
      } finally {
        await eager.close();
      }
    });

    it.skipIf(process.platform === 'win32')('flags a stopped server within 3 s (heartbeat) and resumes cleanly', async () => {
      // SIGSTOP does not exist on Windows.
      expect(client.responsive).toBe(true);
      peer.server.kill('SIGSTOP');
      const stoppedAt = performance.now();
      // The heartbeat's two timers (ping after 1 s of silence, flag 2 s later)
      // fire late by as much as this process's event loop is late.
      const lag = watchLoopLag();
      let during: Promise<number> | undefined;
      try {
        during = client.rpc.add({ a: 1, b: 2 });
        while (client.responsive && performance.now() - stoppedAt < 20_000) await sleep(20);
        const flaggedAfter = performance.now() - stoppedAt;
        const worstLag = lag.stop();
        expect(client.responsive).toBe(false);
        expect(flaggedAfter).toBeLessThan(3000 + 250 + 2 * worstLag);
      } finally {
        lag.stop();
        peer.server.kill('SIGCONT');
      }
      // The call made while the server was stopped completes; nothing failed.
      expect(await during).toBe(3);
      expect(await eventually(() => client.responsive)).toBe(true);
      expect(await client.rpc.add({ a: 2, b: 2 })).toBe(4);
    });

    it('rejects pending calls and open streams with PEER_GONE when the server dies', async () => {
      // Runs last: it kills the server.
      const pending = Array.from({ length: 10 }, () => client.rpc.sleep({ ms: 10_000 }));
      const stream = client.stream.forever({ size: 16 });
      const iterator = stream[Symbol.asyncIterator]();
      await iterator.next();
      const settled = Promise.all(pending.map((p) => rejection(p)));
      const streamEnd = rejection(
        (async () => {
          for (;;) {
            const r = await iterator.next();
            if (r.done) return;
          }
        })(),
      );
      await sleep(20);
      const lag = watchLoopLag();
      const exited = new Promise<number>((resolve) => peer.server.once('exit', () => resolve(performance.now())));
      const killedAt = performance.now();
      peer.server.kill('SIGKILL');
      const errors = await settled;
      const settledAt = performance.now();
      // Within 100 ms of the kill taking effect (a busy machine may take longer
      // to tear a process down and close its descriptors: its exit is the
      // moment), plus however late this process's event loop ran meanwhile.
      const worstLag = lag.stop();
      const elapsed = settledAt - Math.max(killedAt, Math.min(settledAt, await exited));
      expect(errors.every((e) => e.code === ErrorCode.PEER_GONE)).toBe(true);
      expect((await streamEnd).code).toBe(ErrorCode.PEER_GONE);
      expect(elapsed).toBeLessThan(100 + worstLag);
      expect((await rejection(client.rpc.add({ a: 1, b: 1 }))).code).toBe(ErrorCode.PEER_GONE);
    });
  });
}
