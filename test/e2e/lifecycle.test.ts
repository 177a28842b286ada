import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { z } from 'zod';
import { connect, defineChannel, ErrorCode, ProcwireError, serve } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { calcHandlers, serverCounters } from '../fixtures/calcHandlers.js';
import { codeOf } from '../helpers/errors.js';
import { startServerProcess, tempSocketPath } from '../helpers/processes.js';

describe('client and server lifecycle', () => {
  it('close() rejects pending calls with CLOSED, and later calls too', async () => {
    const server = await startServerProcess(`unix://${tempSocketPath()}`);
    const client = await connect(calc, server.url);
    const pending = codeOf(client.rpc.sleep({ ms: 10_000 }));
    await client.close();
    expect(await pending).toBe(ErrorCode.CLOSED);
    expect(await codeOf(client.rpc.add({ a: 1, b: 1 }))).toBe(ErrorCode.CLOSED);
    await server.kill();
  });

  it('a restarted server can be reached again by a new client', async () => {
    const path = tempSocketPath();
    const first = await startServerProcess(`unix://${path}`);
    const client = await connect(calc, first.url);
    await first.kill('SIGKILL');
    expect((await client.closed)?.code).toBe(ErrorCode.PEER_GONE);
    const second = await startServerProcess(`unix://${path}`);
    const again = await connect(calc, second.url);
    expect(await again.rpc.add({ a: 5, b: 5 })).toBe(10);
    await again.close();
    await second.kill();
  });

  it('server.close() answers in-flight calls with CLOSED, aborts their handlers, then the client sees PEER_GONE', async () => {
    const url = `unix://${tempSocketPath()}`;
    let server: Awaited<ReturnType<typeof serve<typeof calc>>> | undefined;
    server = await serve(
      calc,
      url,
      calcHandlers(() => server),
    );
    const client = await connect(calc, url);
    const before = (await client.rpc.stats()).cancelled;
    const pending = codeOf(client.rpc.sleep({ ms: 10_000 }));
    await sleep(20);
    await server.close();
    expect(await pending).toBe(ErrorCode.CLOSED);
    expect(serverCounters.cancelled).toBe(before + 1);
    expect((await client.closed)?.code).toBe(ErrorCode.PEER_GONE);
  });

  it('server.close({ graceMs }) lets running calls finish, refuses new ones, and stops the rest at the deadline', async () => {
    const url = `unix://${tempSocketPath()}`;
    const server = await serve(
      calc,
      url,
      calcHandlers(() => undefined),
    );
    const client = await connect(calc, url);
    const quick = client.rpc.sleep({ ms: 100 });
    const slow = codeOf(client.rpc.sleep({ ms: 10_000 }));
    const stream = client.stream.forever({ size: 8 })[Symbol.asyncIterator]();
    await stream.next();
    await sleep(20);
    const started = performance.now();
    const closing = server.close({ graceMs: 400 });
    await sleep(20);
    expect(await codeOf(client.rpc.add({ a: 1, b: 1 }))).toBe(ErrorCode.SHUTTING_DOWN);
    expect(await quick).toBe('done');
    expect(await slow).toBe(ErrorCode.SHUTTING_DOWN);
    const streamEnd = await codeOf(
      (async () => {
        for (;;) if ((await stream.next()).done) return;
      })(),
    );
    expect(streamEnd).toBe(ErrorCode.SHUTTING_DOWN);
    await closing;
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(3000);
  });

  it('server.close({ graceMs }) returns as soon as nothing runs', async () => {
    const url = `unix://${tempSocketPath()}`;
    const server = await serve(
      calc,
      url,
      calcHandlers(() => undefined),
    );
    const client = await connect(calc, url);
    expect(await client.rpc.add({ a: 1, b: 1 })).toBe(2);
    const started = performance.now();
    await server.close({ graceMs: 5000 });
    // Well before the grace period would end (generous: the machine may be busy).
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('both sides support `await using`', async () => {
    const url = `unix://${tempSocketPath()}`;
    {
      await using server = await serve(
        calc,
        url,
        calcHandlers(() => undefined),
      );
      await using client = await connect(calc, server.url);
      expect(await client.rpc.add({ a: 1, b: 1 })).toBe(2);
    }
    expect(await codeOf(connect(calc, url))).toBe(ErrorCode.CONNECT_FAILED);
  });

  it('times out a handshake with a server that never answers it', async () => {
    const { createServer } = await import('node:net');
    const path = tempSocketPath();
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    expect(await codeOf(connect(calc, `unix://${path}`, { handshakeTimeoutMs: 100 }))).toBe(ErrorCode.TIMEOUT);
    silent.close();
  });
});

describe('a server that sends bad bytes', () => {
  it('is disconnected, and pending calls reject with the protocol error', async () => {
    const { createServer } = await import('node:net');
    const { encode, MessageType } = await import('procwire/link');
    const path = tempSocketPath();
    // Answers the handshake properly, then sends a reserved byte.
    const liar = createServer((socket) => {
      socket.once('data', () => {
        socket.write(encode([MessageType.HELLO, { procwire: 1, channel: 'calc', version: 1, maxFrameBytes: 1 << 20, role: 'server' }]));
        socket.once('data', () => socket.write(Buffer.from([0xc1])));
      });
    });
    await new Promise<void>((resolve) => liar.listen(path, resolve));
    const client = await connect(calc, `unix://${path}`);
    expect(await codeOf(client.rpc.add({ a: 1, b: 2 }))).toBe(ErrorCode.PROTOCOL);
    expect((await client.closed)?.code).toBe(ErrorCode.PROTOCOL);
    liar.close();
  });
});

describe('contracts', () => {
  it('defineChannel rejects a name reused across rpc, streams and events', () => {
    const s = { input: z.number(), output: z.number() };
    expect(() => defineChannel({ name: 'x', version: 1, rpc: { a: s }, streams: { a: s } })).toThrow(
      /"a" is declared in both rpc and streams/,
    );
    expect(() => defineChannel({ name: 'x', version: 1, rpc: { a: s }, events: { a: z.number() } })).toThrow(ProcwireError);
  });

  it('defineChannel rejects malformed contracts with INVALID_CONTRACT', () => {
    for (const bad of [
      { name: '', version: 1 },
      { name: 'x', version: 0 },
      { name: 'x', version: 1.5 },
      { name: 'x', version: 1, rpc: { a: { input: {}, output: z.number() } } },
      { name: 'x', version: 1, events: { 'bad name': z.number() } },
    ]) {
      let code = 'NO ERROR';
      try {
        defineChannel(bad as never);
      } catch (error) {
        code = (error as ProcwireError).code;
      }
      expect(code).toBe(ErrorCode.INVALID_CONTRACT);
    }
  });

  it('serve rejects missing and unknown handlers', async () => {
    const url = `unix://${tempSocketPath()}`;
    const { add: _add, ...missingAdd } = calcHandlers(() => undefined);
    await expect(serve(calc, url, missingAdd as never)).rejects.toThrow(/missing handler for rpc method "add"/);
    await expect(serve(calc, url, { ...calcHandlers(() => undefined), extra: () => 1 } as never)).rejects.toThrow(/"extra" is not/);
  });

  it('accepts any Standard Schema (valibot here), with transforms applied', async () => {
    const greeter = defineChannel({
      name: 'greeter',
      version: 3,
      rpc: {
        greet: {
          input: v.object({ name: v.pipe(v.string(), v.trim()) }),
          output: v.pipe(
            v.string(),
            v.transform((s) => s.toUpperCase()),
          ),
        },
      },
    });
    const url = `unix://${tempSocketPath()}`;
    await using server = await serve(greeter, url, { greet: ({ name }) => `hello ${name}` });
    await using client = await connect(greeter, server.url);
    expect(await client.rpc.greet({ name: '  ada ' })).toBe('HELLO ADA');
    expect(await codeOf(client.rpc.greet({ name: 42 } as never))).toBe(ErrorCode.INVALID_INPUT);
  });

  it('carries optional fields and void results through MessagePack', async () => {
    const ch = defineChannel({
      name: 'opt',
      version: 1,
      rpc: {
        maybe: { input: z.object({ a: z.number().optional() }), output: z.object({ a: z.number().optional() }) },
        nothing: { input: z.void(), output: z.void() },
        nullish: { input: z.null(), output: z.null() },
      },
    });
    const url = `unix://${tempSocketPath()}`;
    await using server = await serve(ch, url, { maybe: (x) => x, nothing: () => {}, nullish: () => null });
    await using client = await connect(ch, server.url);
    expect(await client.rpc.maybe({ a: undefined })).toEqual({});
    expect(await client.rpc.maybe({ a: 1 })).toEqual({ a: 1 });
    expect(await client.rpc.nothing()).toBeUndefined();
    expect(await client.rpc.nullish(null)).toBeNull();
  });

  it('guards against prototype pollution through method and key names', async () => {
    const url = `unix://${tempSocketPath()}`;
    await using server = await serve(
      calc,
      url,
      calcHandlers(() => undefined),
    );
    const evil = defineChannel({
      name: 'calc',
      version: 1,
      rpc: { __proto__: { input: z.unknown(), output: z.unknown() }, constructor: { input: z.unknown(), output: z.unknown() } },
    } as never);
    await using client = await connect(evil, server.url);
    const rpc = client.rpc as Record<string, (x: unknown) => Promise<unknown>>;
    expect(await codeOf(rpc['constructor']!({}))).toBe(ErrorCode.METHOD_NOT_FOUND);
    await using plain = await connect(calc, server.url);
    const echoed = (await plain.rpc.echo(JSON.parse('{"__proto__": {"polluted": true}}'))) as object;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(echoed)).toBe(Object.prototype);
  });
});

describe('event validation on the client', () => {
  it('drops an event whose payload fails the schema, reports it, and delivers the rest', async () => {
    const url = `unix://${tempSocketPath()}`;
    await using server = await serve(
      calc,
      url,
      calcHandlers(() => undefined),
    );
    const reported: ProcwireError[] = [];
    await using client = await connect(calc, server.url, { onError: (e) => reported.push(e) });
    const got: number[] = [];
    const three = new Promise<void>((resolve) =>
      client.on('tick', ({ n }) => {
        got.push(n);
        if (n === 3) resolve();
      }),
    );
    server.emit('tick', { n: 1 });
    server.emit('tick', { n: 'two' } as never);
    server.emit('tick', { n: 3 });
    await three;
    expect(got).toEqual([1, 3]);
    expect(reported.map((e) => e.code)).toEqual([ErrorCode.INVALID_OUTPUT]);
  });
});

describe('frame limits', () => {
  it("a client keeps to the server's smaller frame limit instead of getting disconnected", async () => {
    const url = `unix://${tempSocketPath()}`;
    await using server = await serve(
      calc,
      url,
      calcHandlers(() => undefined),
      { limits: { maxFrameBytes: 64 * 1024 } },
    );
    await using client = await connect(calc, server.url);
    expect(await codeOf(client.rpc.echo(new Uint8Array(100 * 1024)))).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(await client.rpc.add({ a: 1, b: 2 })).toBe(3);
    expect(((await client.rpc.echo(new Uint8Array(60 * 1024))) as Uint8Array).length).toBe(60 * 1024);
  });
});

describe('endpoints that are not procwire servers', () => {
  it('connect() fails with PROTOCOL when the first answer is not a procwire hello', async () => {
    const { createServer } = await import('node:net');
    const path = tempSocketPath();
    const http = createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise<void>((resolve) => http.listen(path, resolve));
    const warnings: unknown[] = [];
    const error = await connect(calc, `unix://${path}`, { onError: (e) => warnings.push(e) }).catch((e: unknown) => e);
    expect((error as ProcwireError).code).toBe(ErrorCode.PROTOCOL);
    expect((error as ProcwireError).message).toMatch(/procwire server/);
    expect(warnings).toEqual([]);
    http.close();
  });

  it('unix: URLs with a host or unknown options are refused, not reinterpreted', async () => {
    expect(await codeOf(connect(calc, 'unix://tmp/x.sock'))).toBe(ErrorCode.INVALID_ENDPOINT);
    expect(await codeOf(connect(calc, 'unix:@abs?mode=1'))).toBe(ErrorCode.INVALID_ENDPOINT);
    expect(
      await codeOf(
        serve(
          calc,
          'unix:///nonexistent-dir/x.sock',
          calcHandlers(() => undefined),
        ),
      ),
    ).toBe(ErrorCode.LISTEN_FAILED);
  });
});
