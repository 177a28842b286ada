/**
 * Plain msgpack-rpc clients that know nothing of procwire call a procwire calc
 * server running in another process, over `unix:` and `tcp:`, without a
 * handshake:
 * - msgpack5rpc (npm), a msgpack-rpc session someone else wrote;
 * - raw bytes, hand-encoded, written one byte at a time and many frames per write;
 * - Neovim (`nvim --headless`), when it is installed.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, tempSocketPath, uniqueName, type ServerProcess } from '../helpers/processes.js';

// ------------------------------------------------------------ msgpack5rpc

/** The part of msgpack5rpc's Session (CommonJS, untyped) these tests use. */
interface Msgpack5RpcSession {
  attach(writer: NodeJS.WritableStream, reader: NodeJS.ReadableStream): void;
  detach(): void;
  request(method: string, args: unknown[], callback: (error: unknown, result: unknown) => void): void;
  on(event: 'notification', listener: (method: string, args: unknown[]) => void): this;
}
const require = createRequire(import.meta.url);
const Session = require('msgpack5rpc') as new () => Msgpack5RpcSession;

interface Reply {
  error: unknown;
  result: unknown;
}

function call(session: Msgpack5RpcSession, method: string, args: unknown[]): Promise<Reply> {
  return new Promise((resolve) => session.request(method, args, (error, result) => resolve({ error, result })));
}

// ---------------------------------------------------------------- helpers

interface Target {
  readonly name: string;
  readonly makeUrl: () => string;
}

const targets: Target[] = [
  { name: 'unix', makeUrl: () => `unix://${tempSocketPath()}` },
  { name: 'tcp', makeUrl: () => 'tcp://127.0.0.1:0' },
];

/** Where a plain socket connects for a procwire endpoint URL. */
function socketAddress(url: string): { path: string } | { host: string; port: number } {
  if (url.startsWith('unix://')) return { path: url.slice('unix://'.length) };
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

function openSocket(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const address = socketAddress(url);
    const socket = 'path' in address ? createConnection(address.path) : createConnection(address.port, address.host);
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Stops a server process: SIGTERM (it closes and removes its socket file), SIGKILL if it lingers. */
async function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  await Promise.race([server.kill('SIGTERM'), sleep(5000)]);
  await server.kill('SIGKILL');
}

// Hand encoding: just enough MessagePack to write calc requests without any library.
function uint(n: number): number[] {
  if (n < 0x80) return [n]; // positive fixint
  if (n < 0x100) return [0xcc, n]; // uint8
  if (n < 0x10000) return [0xcd, n >> 8, n & 0xff]; // uint16
  throw new Error('ids in these tests stay below 65536');
}
function str(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  if (bytes.length >= 32) throw new Error('fixstr only');
  return [0xa0 | bytes.length, ...bytes];
}
/** [0, id, "calc.add", [{"a": a, "b": b}]] */
function addRequest(id: number, a: number, b: number): Buffer {
  return Buffer.from([0x94, 0x00, ...uint(id), ...str('calc.add'), 0x91, 0x82, ...str('a'), ...uint(a), ...str('b'), ...uint(b)]);
}
/** [1, id, nil, result] */
function okResponse(id: number, result: number[]): Buffer {
  return Buffer.from([0x94, 0x01, ...uint(id), 0xc0, ...result]);
}

/** Collects what the server sends until `expected` bytes have arrived, then compares them as hex. */
function expectBytes(socket: Socket, expected: Buffer, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`got ${length} of ${expected.length} bytes: ${Buffer.concat(chunks).toString('hex')}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < expected.length) return;
      clearTimeout(timer);
      socket.off('data', onData);
      try {
        expect(Buffer.concat(chunks).toString('hex')).toBe(expected.toString('hex'));
        resolve();
      } catch (error) {
        reject(error as Error);
      }
    };
    socket.on('data', onData);
  });
}

/** The first executable `name` on PATH, if any. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const NVIM = onPath('nvim');

// ------------------------------------------------------------------ tests

describe.each(targets)('a procwire calc server in another process, over $name', (target) => {
  let server: ServerProcess | undefined;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = await startServerProcess(target.makeUrl());
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(async () => {
    await stopServer(server);
  });

  async function connectedSocket(): Promise<Socket> {
    const socket = await openSocket(server!.url);
    sockets.push(socket);
    return socket;
  }

  /** A msgpack5rpc session over a fresh socket; `written` collects the bytes it sends. */
  async function session(): Promise<{ session: Msgpack5RpcSession; written: Buffer[] }> {
    const socket = await connectedSocket();
    const written: Buffer[] = [];
    const tap = new PassThrough();
    tap.on('data', (chunk: Buffer) => written.push(chunk));
    tap.pipe(socket);
    const s = new Session();
    s.attach(tap, socket);
    return { session: s, written };
  }

  describe('msgpack5rpc, no handshake', () => {
    it('calls calc.add and gets 3', async () => {
      const { session: s, written } = await session();
      expect(await call(s, 'calc.add', [{ a: 1, b: 2 }])).toEqual({ error: null, result: 3 });
      // Its request is byte for byte the one docs/PROTOCOL.md shows.
      expect(Buffer.concat(written).toString('hex')).toBe('940001a863616c632e6164649182a16101a16202');
    });

    it('receives the tick event as a notification [2, "calc.tick", [{n: 1}]], before the response', async () => {
      const { session: s } = await session();
      const seen: unknown[] = [];
      s.on('notification', (method, args) => seen.push({ method, args }));
      const reply = await call(s, 'calc.emitTick', [{ n: 1 }]);
      seen.push('response');
      expect(reply).toEqual({ error: null, result: null });
      expect(seen).toEqual([{ method: 'calc.tick', args: [{ n: 1 }] }, 'response']);
    });

    it('gets INVALID_INPUT as a readable "CODE: message" string, and the server keeps serving', async () => {
      const { session: s } = await session();
      const bad = await call(s, 'calc.add', [{ a: 'one', b: 2 }]);
      expect(bad.result).toBeNull();
      expect(typeof bad.error).toBe('string');
      expect(bad.error).toMatch(/^INVALID_INPUT: invalid input for calc\.add: a: /);
      expect(await call(s, 'calc.add', [{ a: 2, b: 3 }])).toEqual({ error: null, result: 5 });
    });

    it('gets METHOD_NOT_FOUND for an unknown method and for a stream called as a request', async () => {
      const { session: s } = await session();
      expect(await call(s, 'calc.nope', [])).toEqual({ error: 'METHOD_NOT_FOUND: no method "calc.nope"', result: null });
      expect(await call(s, 'other.add', [{ a: 1, b: 2 }])).toEqual({
        error: 'METHOD_NOT_FOUND: no method "other.add"',
        result: null,
      });
      const stream = await call(s, 'calc.count', [{ to: 3 }]);
      expect(stream.error).toMatch(/^METHOD_NOT_FOUND: no method "calc\.count" \(it is a stream/);
    });

    it('gets INVALID_INPUT when params are not one argument', async () => {
      const { session: s } = await session();
      expect(await call(s, 'calc.add', [{ a: 1, b: 2 }, 3])).toEqual({
        error: 'INVALID_INPUT: expected one parameter, got 2',
        result: null,
      });
    });

    it("gets a handler's own code, and HANDLER_ERROR for a plain Error", async () => {
      const { session: s } = await session();
      expect(await call(s, 'calc.fail', [{ code: 'MY_CODE', message: 'boom' }])).toEqual({
        error: 'MY_CODE: boom',
        result: null,
      });
      expect(await call(s, 'calc.fail', [{ message: 'plain' }])).toEqual({ error: 'HANDLER_ERROR: plain', result: null });
    });

    it('calls a method without arguments, and gets binary results as bytes', async () => {
      const { session: s } = await session();
      expect(await call(s, 'calc.pid', [])).toEqual({ error: null, result: server!.child.pid });
      const bytes = await call(s, 'calc.bytes', [{ size: 5 }]);
      expect(Buffer.isBuffer(bytes.result)).toBe(true);
      expect([...(bytes.result as Buffer)]).toEqual([7, 7, 7, 7, 7]);
    });

    it("passes on fractions as msgpack5 encodes them (float32, msgpack5's choice), and answers in float64", async () => {
      const { session: s } = await session();
      // msgpack5 3.x writes a fraction as float32 whenever that is within 0.1 of it.
      expect(await call(s, 'calc.add', [{ a: 0.1, b: 0.2 }])).toEqual({ error: null, result: Math.fround(0.1) + Math.fround(0.2) });
      expect(await call(s, 'calc.add', [{ a: 0.5, b: -2 }])).toEqual({ error: null, result: -1.5 });
    });

    // msgpack5 sends 2^32 as uint64 (cf ...), the smallest form the MessagePack spec
    // allows for it; a time in ms arrives the same way. It must pass z.number().
    it('adds integers of 2^32 and more sent as uint64', async () => {
      const { session: s } = await session();
      expect(await call(s, 'calc.add', [{ a: 2 ** 32, b: 1 }])).toEqual({ error: null, result: 2 ** 32 + 1 });
    });

    it('keeps 300 concurrent calls apart by msgid', async () => {
      const { session: s } = await session();
      const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => call(s, 'calc.add', [{ a: i, b: 1000 }])));
      expect(replies).toEqual(Array.from({ length: 300 }, (_, i) => ({ error: null, result: i + 1000 })));
    });
  });

  describe('raw bytes', () => {
    it('answers a request written one byte at a time', async () => {
      const socket = await connectedSocket();
      const frames = Buffer.concat([addRequest(1, 1, 2), addRequest(2, 20, 22)]);
      const answer = expectBytes(socket, Buffer.concat([okResponse(1, [3]), okResponse(2, [42])]));
      for (const byte of frames) {
        socket.write(Buffer.from([byte]));
        await sleep(1);
      }
      await answer;
    });

    it('answers 500 requests coalesced into one write, in order', async () => {
      const socket = await connectedSocket();
      const ids = Array.from({ length: 500 }, (_, i) => i + 1);
      const answer = expectBytes(socket, Buffer.concat(ids.map((id) => okResponse(id, uint((id % 100) + 7)))));
      socket.write(Buffer.concat(ids.map((id) => addRequest(id, id % 100, 7))));
      await answer;
    });

    it('answers frames cut at arbitrary points, headers included', async () => {
      const socket = await connectedSocket();
      const ids = Array.from({ length: 60 }, (_, i) => 200 + i); // uint8 ids: two-byte headers to split
      const all = Buffer.concat(ids.map((id) => addRequest(id, 100, 27)));
      const answer = expectBytes(socket, Buffer.concat(ids.map((id) => okResponse(id, uint(127)))));
      const sizes = [1, 2, 3, 5, 7, 11, 13, 17, 29, 64];
      for (let at = 0, i = 0; at < all.length; i++) {
        const size = sizes[i % sizes.length]!;
        socket.write(all.subarray(at, at + size));
        at += size;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await answer;
    });

    it('sends the tick notification as [2, "calc.tick", [{"n": 1}]] before the response', async () => {
      const socket = await connectedSocket();
      // [0, 9, "calc.emitTick", [{"n": 1}]]
      const request = Buffer.from([0x94, 0x00, 0x09, ...str('calc.emitTick'), 0x91, 0x81, ...str('n'), 0x01]);
      const notification = Buffer.from([0x93, 0x02, ...str('calc.tick'), 0x91, 0x81, ...str('n'), 0x01]);
      const answer = expectBytes(socket, Buffer.concat([notification, okResponse(9, [0xc0])]));
      socket.write(request);
      await answer;
    });

    it('answers an unknown method with a "METHOD_NOT_FOUND: ..." string', async () => {
      const socket = await connectedSocket();
      // [0, 5, "calc.nope", []]
      const message = Buffer.from('METHOD_NOT_FOUND: no method "calc.nope"');
      const answer = expectBytes(
        socket,
        Buffer.concat([Buffer.from([0x94, 0x01, 0x05, 0xd9, message.length]), message, Buffer.from([0xc0])]),
      );
      socket.write(Buffer.from([0x94, 0x00, 0x05, ...str('calc.nope'), 0x90]));
      await answer;
    });
  });

  describe.skipIf(!NVIM)(
    `Neovim (nvim --headless, rpcrequest over sockconnect)${NVIM ? '' : " — skipped: nvim is not on PATH (CI installs Debian's neovim package)"}`,
    () => {
      it('calls calc.add and shows errors with their code', async () => {
        const url = server!.url;
        const address = socketAddress(url);
        const connectTo =
          'path' in address
            ? `sockconnect('pipe', '${address.path}', {'rpc': v:true})`
            : `sockconnect('tcp', '${address.host}:${address.port}', {'rpc': v:true})`;
        const base = join(tmpdir(), uniqueName('nvim'));
        const script = `${base}.vim`;
        const output = `${base}.json`;
        writeFileSync(
          script,
          [
            'let s:out = {}',
            'try',
            `  let s:ch = ${connectTo}`,
            "  let s:out.add = rpcrequest(s:ch, 'calc.add', {'a': 1, 'b': 2})",
            "  let s:out.pid = rpcrequest(s:ch, 'calc.pid')",
            "  let s:out.echo = rpcrequest(s:ch, 'calc.echo', {'s': 'h\u00e9llo', 'l': [1, 2.5, v:true, v:null]})",
            '  try',
            "    call rpcrequest(s:ch, 'calc.add', {'a': 'x', 'b': 2})",
            "    let s:out.invalid = 'no error'",
            '  catch',
            '    let s:out.invalid = v:exception',
            '  endtry',
            '  try',
            "    call rpcrequest(s:ch, 'calc.nope')",
            "    let s:out.missing = 'no error'",
            '  catch',
            '    let s:out.missing = v:exception',
            '  endtry',
            '  try',
            "    call rpcrequest(s:ch, 'calc.fail', {'code': 'MY_CODE', 'message': 'boom'})",
            "    let s:out.own = 'no error'",
            '  catch',
            '    let s:out.own = v:exception',
            '  endtry',
            '  call chanclose(s:ch)',
            'catch',
            '  let s:out.fatal = v:exception',
            'endtry',
            `call writefile([json_encode(s:out)], '${output}')`,
            'qall!',
            '',
          ].join('\n'),
        );
        try {
          await new Promise<void>((resolve, reject) => {
            execFile(
              NVIM!,
              ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-S', script],
              { timeout: 20_000 },
              (error, _stdout, stderr) => (error ? reject(new Error(`nvim failed: ${error.message}\n${stderr}`)) : resolve()),
            );
          });
          const out = JSON.parse(readFileSync(output, 'utf8')) as Record<string, unknown>;
          expect(out.fatal).toBeUndefined();
          expect(out.add).toBe(3);
          expect(out.pid).toBe(server!.child.pid);
          expect(out.echo).toEqual({ s: 'h\u00e9llo', l: [1, 2.5, true, null] });
          expect(out.invalid).toMatch(/Error invoking 'calc\.add' .*INVALID_INPUT: invalid input for calc\.add: a: /s);
          expect(out.missing).toMatch(/Error invoking 'calc\.nope' .*METHOD_NOT_FOUND: no method "calc\.nope"/s);
          expect(out.own).toMatch(/MY_CODE: boom/);
        } finally {
          rmSync(script, { force: true });
          rmSync(output, { force: true });
        }
      });
    },
  );
});
