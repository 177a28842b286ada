/**
 * docs/PROTOCOL.md is a specification that the code has to keep meeting. This
 * test reads the document and checks it against procwire:
 * - every ```msgpack-example block: `encode(value)` gives exactly `bytes`, and
 *   `decode(bytes)` gives back `value`;
 * - every ```msgpack-check block: the frame checks accept or reject `bytes` as stated;
 * - the ```constants block, the message type table, the limits table and the
 *   error code table equal what procwire exports;
 * - the example conversations are played against a real procwire server (raw
 *   bytes in, exact bytes expected out) and a real procwire client (its bytes
 *   compared with the examples), and every ```wire-error block against what the
 *   client makes of that error value.
 * If the document and the code drift apart, this test fails.
 */
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server as NetServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as wire from 'procwire/link';
import { connect, defineChannel, ErrorCode, ProcwireError, serve, type Client, type FrameLimits, type Server } from 'procwire';
import { checkFrame, decode, DEFAULT_FRAME_LIMITS, encode, FrameDelimiter, MessageType, resolveFrameLimits } from 'procwire/link';
import { calc } from '../fixtures/calc.js';
import { calcHandlers } from '../fixtures/calcHandlers.js';
import { tempSocketPath } from '../helpers/processes.js';

// ------------------------------------------------------------------ parsing

const DOC_PATH = fileURLToPath(new URL('../../docs/PROTOCOL.md', import.meta.url));
const doc = readFileSync(DOC_PATH, 'utf8');

type Fields = Record<string, string>;

/** Fenced blocks of one kind, as `key: value` fields; indented lines continue the previous field. */
function blocks(kind: string): Fields[] {
  const found: Fields[] = [];
  const fence = new RegExp('^```' + kind + '\\n([\\s\\S]*?)^```$', 'gm');
  for (const match of doc.matchAll(fence)) {
    const fields: Fields = {};
    let last: string | undefined;
    for (const line of match[1]!.split('\n')) {
      if (line.trim() === '') continue;
      const field = /^([a-z][\w-]*):\s?(.*)$/.exec(line);
      if (field) {
        last = field[1]!;
        if (last in fields) throw new Error(`duplicate field "${last}" in a ${kind} block:\n${match[0]}`);
        fields[last] = field[2]!;
      } else if (/^\s/.test(line) && last !== undefined) {
        fields[last] += ` ${line.trim()}`;
      } else {
        throw new Error(`unreadable line in a ${kind} block: ${JSON.stringify(line)}`);
      }
    }
    found.push(fields);
  }
  return found;
}

function required(fields: Fields, key: string): string {
  const value = fields[key];
  if (value === undefined) throw new Error(`block without "${key}": ${JSON.stringify(fields)}`);
  return value;
}

function hexOf(text: string): string {
  const hex = text.replace(/\s+/g, '').toLowerCase();
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`not a hex byte string: ${text}`);
  return hex;
}

/** The text of the section whose heading contains `title`, up to the next heading of the same level. */
function section(title: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => /^#{2,3} /.test(l) && l.includes(title));
  if (start === -1) throw new Error(`docs/PROTOCOL.md has no section "${title}"`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  let end = start + 1;
  while (end < lines.length && !new RegExp(`^#{1,${level}} `).test(lines[end]!)) end++;
  return lines.slice(start, end).join('\n');
}

function tableRows(text: string, row: RegExp): RegExpExecArray[] {
  return text
    .split('\n')
    .map((line) => row.exec(line))
    .filter((m): m is RegExpExecArray => m !== null);
}

interface Example {
  name: string;
  type: keyof typeof MessageType;
  from: 'client' | 'server';
  value: unknown;
  hex: string;
  bytes: Buffer;
}

const examples: Example[] = blocks('msgpack-example').map((b) => {
  const hex = hexOf(required(b, 'bytes'));
  return {
    name: required(b, 'name'),
    type: required(b, 'type') as keyof typeof MessageType,
    from: required(b, 'from') as 'client' | 'server',
    value: JSON.parse(required(b, 'value')) as unknown,
    hex,
    bytes: Buffer.from(hex, 'hex'),
  };
});

function example(name: string): Example {
  const found = examples.find((e) => e.name === name);
  if (!found) throw new Error(`docs/PROTOCOL.md has no msgpack-example named "${name}"`);
  return found;
}

const messageTypeRows = tableRows(section('Messages'), /^\|\s*(\d+)\s*\|\s*`([A-Z_]+)`\s*\|\s*`(\[[^`]*\])`\s*\|\s*(.*?)\s*\|\s*$/).map(
  (m) => ({ type: Number(m[1]), name: m[2]!, shape: m[3]!, sentBy: m[4]! }),
);

// ------------------------------------------------------------ static checks

describe('docs/PROTOCOL.md: byte examples', () => {
  it('has every example the protocol needs, each named once', () => {
    const names = examples.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of [
      'request',
      'response',
      'notification',
      'hello-client',
      'hello-server',
      'error-plain',
      'error-procwire',
      'stream-open',
      'stream-item',
      'stream-end',
      'stream-end-error',
      'stream-credit',
      'cancel',
    ]) {
      expect(names, `example "${name}"`).toContain(name);
    }
    // Every message type has at least one example.
    expect(new Set(examples.map((e) => e.type))).toEqual(new Set(Object.keys(MessageType)));
  });

  it.each(examples.map((e) => [e.name, e] as const))('%s: encode(value) gives the bytes, decode gives the value', (_, e) => {
    expect(encode(e.value).toString('hex')).toBe(e.hex);
    expect(decode(e.bytes)).toEqual(e.value);
    expect(() => checkFrame(e.bytes, DEFAULT_FRAME_LIMITS)).not.toThrow();
  });

  it.each(examples.map((e) => [e.name, e] as const))('%s: type, shape and sender agree with the message table', (_, e) => {
    const value = e.value as unknown[];
    expect(Array.isArray(value)).toBe(true);
    expect(MessageType[e.type], `type ${e.type}`).toBe(value[0]);
    const row = messageTypeRows.find((r) => r.name === e.type);
    expect(row, `table row for ${e.type}`).toBeDefined();
    expect(value.length).toBe(row!.shape.slice(1, -1).split(',').length);
    expect(row!.sentBy).toContain(e.from);
  });

  it('frames survive arriving one byte at a time and all back to back in one chunk', () => {
    const oneByOne: string[] = [];
    const delimiter = new FrameDelimiter(DEFAULT_FRAME_LIMITS);
    for (const e of examples) {
      for (const byte of e.bytes) delimiter.push(Buffer.from([byte]), (f) => oneByOne.push(f.toString('hex')));
    }
    expect(oneByOne).toEqual(examples.map((e) => e.hex));

    const coalesced: string[] = [];
    new FrameDelimiter(DEFAULT_FRAME_LIMITS).push(Buffer.concat(examples.map((e) => e.bytes)), (f) => coalesced.push(f.toString('hex')));
    expect(coalesced).toEqual(examples.map((e) => e.hex));
  });
});

describe('docs/PROTOCOL.md: frame checks', () => {
  const checks = blocks('msgpack-check').map((b) => ({
    name: required(b, 'name'),
    bytes: Buffer.from(hexOf(required(b, 'bytes')), 'hex'),
    result: required(b, 'result'),
  }));

  it('lists accepted and rejected frames', () => {
    expect(checks.length).toBeGreaterThanOrEqual(5);
    expect(checks.some((c) => c.result === 'ok')).toBe(true);
  });

  it.each(checks.map((c) => [c.name, c] as const))('%s', (_, c) => {
    if (c.result === 'ok') {
      expect(() => checkFrame(c.bytes, DEFAULT_FRAME_LIMITS)).not.toThrow();
      return;
    }
    expect(Object.values(ErrorCode)).toContain(c.result);
    let thrown: unknown;
    try {
      checkFrame(c.bytes, DEFAULT_FRAME_LIMITS);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProcwireError);
    expect((thrown as ProcwireError).code).toBe(c.result);
  });
});

describe('docs/PROTOCOL.md: constants', () => {
  const constants = new Map(
    [...doc.matchAll(/^```constants\n([\s\S]*?)^```$/gm)]
      .flatMap((m) => m[1]!.split('\n'))
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const m = /^([A-Z][A-Z0-9_]*) = (.+)$/.exec(l);
        if (!m) throw new Error(`unreadable constant line: ${l}`);
        return [m[1]!, JSON.parse(m[2]!) as unknown] as const;
      }),
  );

  it('states the constants the protocol depends on', () => {
    for (const name of [
      'PROTOCOL_VERSION',
      'MAX_MSGID',
      'ACCEPTED_EXTENSION_TYPES',
      'DEFAULT_MAX_FRAME_BYTES',
      'HARD_MAX_FRAME_BYTES',
      'DEFAULT_MAX_DEPTH',
      'DEFAULT_MAX_ELEMENTS',
      'DEFAULT_STREAM_WINDOW',
    ]) {
      expect([...constants.keys()], name).toContain(name);
    }
  });

  it.each([...constants].map(([name, value]) => [name, value] as const))('%s matches the export', (name, value) => {
    const exported = (wire as Record<string, unknown>)[name];
    expect(exported, `procwire/link exports ${name}`).toBeDefined();
    expect(exported instanceof Set ? [...exported] : exported).toEqual(value);
  });

  it('the message type table is MessageType, with msgpack-rpc shapes', () => {
    expect(Object.fromEntries(messageTypeRows.map((r) => [r.name, r.type]))).toEqual(MessageType);
    for (const row of messageTypeRows) expect(row.shape.startsWith(`[${row.type},`), row.name).toBe(true);
  });

  it('HELLO examples carry PROTOCOL_VERSION and the default limits', () => {
    for (const name of ['hello-client', 'hello-server']) {
      const hello = (example(name).value as [number, { procwire: number } & FrameLimits])[1];
      expect(hello.procwire, name).toBe(wire.PROTOCOL_VERSION);
      expect({ maxFrameBytes: hello.maxFrameBytes, maxDepth: hello.maxDepth, maxElements: hello.maxElements }, name).toEqual(
        DEFAULT_FRAME_LIMITS,
      );
    }
  });

  const limitRows = tableRows(section('Limits'), /^\|\s*`(\w+)`\s*\|\s*`(DEFAULT_\w+)`\s*\|\s*(\d+)\s*\|\s*(\d+) to (\d+)\s*\|/).map(
    (m) => ({
      limit: m[1] as keyof FrameLimits,
      constant: m[2]!,
      value: Number(m[3]),
      min: Number(m[4]),
      max: Number(m[5]),
    }),
  );

  it('the limits table lists every limit with its default', () => {
    expect(limitRows.map((r) => r.limit).sort()).toEqual(Object.keys(DEFAULT_FRAME_LIMITS).sort());
    for (const row of limitRows) {
      expect(DEFAULT_FRAME_LIMITS[row.limit], row.limit).toBe(row.value);
      expect((wire as Record<string, unknown>)[row.constant], row.constant).toBe(row.value);
    }
    expect(limitRows.find((r) => r.limit === 'maxFrameBytes')!.max).toBe(wire.HARD_MAX_FRAME_BYTES);
  });

  it.each(limitRows.map((r) => [r.limit, r] as const))('%s accepts exactly its stated range', (limit, row) => {
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (error) {
        return (error as ProcwireError).code;
      }
    };
    expect(code(() => resolveFrameLimits({ [limit]: row.min }))).toBe('ok');
    expect(code(() => resolveFrameLimits({ [limit]: row.max }))).toBe('ok');
    expect(code(() => resolveFrameLimits({ [limit]: row.min - 1 }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(code(() => resolveFrameLimits({ [limit]: row.max + 1 }))).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it('depth counts the message array as 1, and elements count map keys and values', () => {
    const depth = limitRows.find((r) => r.limit === 'maxDepth')!.value;
    const nested = (levels: number): unknown => (levels === 0 ? 0 : [nested(levels - 1)]);
    expect(() => checkFrame(encode(nested(depth)), DEFAULT_FRAME_LIMITS)).not.toThrow();
    expect(() => checkFrame(encode(nested(depth + 1)), DEFAULT_FRAME_LIMITS)).toThrow(/maxDepth/);

    const elements = limitRows.find((r) => r.limit === 'maxElements')!.value;
    expect(() => checkFrame(encode(new Array(elements).fill(null)), DEFAULT_FRAME_LIMITS)).not.toThrow();
    expect(() => checkFrame(encode(new Array(elements + 1).fill(null)), DEFAULT_FRAME_LIMITS)).toThrow(/maxElements/);
    // A map of n entries counts 2n: key and value.
    const map = Object.fromEntries(Array.from({ length: elements / 2 }, (_, i) => [`k${i}`, 0]));
    expect(() => checkFrame(encode(map), DEFAULT_FRAME_LIMITS)).not.toThrow();
    expect(() => checkFrame(encode({ ...map, one: 0 }), DEFAULT_FRAME_LIMITS)).toThrow(/maxElements/);
  });

  it('the error code table is ErrorCode', () => {
    const codes = tableRows(section('Error codes'), /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/).map((m) => m[1]!);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(codes)).toEqual(new Set(Object.values(ErrorCode)));
  });

  it('the codec behaves as section 3 says', () => {
    expect(encode(undefined).toString('hex')).toBe('c0');
    expect(encode({ a: 1, b: undefined }).toString('hex')).toBe('81a16101');
    expect(encode(new Uint8Array([1, 2])).toString('hex')).toBe('c4020102');
    expect(encode(new Date(0)).toString('hex')).toBe('d6ff00000000');
    expect(encode(1.5).toString('hex')).toBe('cb3ff8000000000000');
    expect(encode(2 ** 32).toString('hex')).toBe('cb41f0000000000000');
    expect(encode(5n).toString('hex')).toBe('d30000000000000005');
    expect(decode(Buffer.from('c0', 'hex'))).toBeNull();
    expect(decode(Buffer.from('cf0000000000000001', 'hex'))).toBe(1);
    expect(decode(Buffer.from('cf0000000100000000', 'hex'))).toBe(2 ** 32);
    expect(decode(Buffer.from('d3ffffffffffffffff', 'hex'))).toBe(-1);
    expect(decode(Buffer.from('cf0040000000000001', 'hex'))).toBe(2n ** 54n + 1n);
    expect(decode(Buffer.from('c4020102', 'hex'))).toBeInstanceOf(Uint8Array);
    expect(decode(Buffer.from('d6ff00000000', 'hex'))).toEqual(new Date(0));
    expect(Object.keys(decode(Buffer.from('81a95f5f70726f746f5f5f01', 'hex')) as object)).toEqual(['__proto_']);
  });
});

// ------------------------------------------------------------- live checks

/** A raw socket that hands back whole frames, delimited by procwire's FrameDelimiter. */
class RawPeer {
  private readonly frames: Buffer[] = [];
  private waiter: ((frame: Buffer) => void) | undefined;
  private readonly delimiter = new FrameDelimiter(DEFAULT_FRAME_LIMITS);

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) =>
      this.delimiter.push(chunk, (frame) => {
        const copy = Buffer.from(frame);
        const waiter = this.waiter;
        this.waiter = undefined;
        if (waiter) waiter(copy);
        else this.frames.push(copy);
      }),
    );
  }

  static connect(path: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next whole frame, as hex. */
  next(timeoutMs = 5000): Promise<string> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued.toString('hex'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
      this.waiter = (frame) => {
        clearTimeout(timer);
        resolve(frame.toString('hex'));
      };
    });
  }

  /** Sends one example and expects the next frames to be exactly these examples' bytes. */
  async exchange(send: Example, ...expected: Array<Example | string>): Promise<void> {
    expect(send.from).toBe('client');
    this.send(send.bytes);
    for (const e of expected) {
      if (typeof e !== 'string') expect(e.from).toBe('server');
      expect(await this.next(), typeof e === 'string' ? e : e.name).toBe(typeof e === 'string' ? e : e.hex);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('docs/PROTOCOL.md: conversations against a real procwire server', () => {
  let server: Server<typeof calc> | undefined;
  let path: string;

  beforeAll(async () => {
    path = tempSocketPath();
    server = await serve(
      calc,
      `unix://${path}`,
      calcHandlers(() => server),
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  it('conversation A: a plain msgpack-rpc client, no handshake', async () => {
    const peer = await RawPeer.connect(path);
    try {
      await peer.exchange(example('request'), example('response'));
      await peer.exchange(example('request-unknown'), example('error-plain'));
      await peer.exchange(example('request-emit'), example('notification'), example('response-void'));
    } finally {
      peer.close();
    }
  });

  it('conversation B: a peer that says hello gets maps as errors, and streams', async () => {
    const peer = await RawPeer.connect(path);
    try {
      await peer.exchange(example('hello-client'), example('hello-server'));
      await peer.exchange(example('request'), example('response'));
      await peer.exchange(
        example('stream-open'),
        example('stream-item'),
        encode([MessageType.STREAM_ITEM, 2, 1]).toString('hex'),
        encode([MessageType.STREAM_ITEM, 2, 2]).toString('hex'),
        example('stream-end'),
      );
      await peer.exchange(example('request-unknown-b'), example('error-procwire'));
      await peer.exchange(
        example('stream-open-fail'),
        encode([MessageType.STREAM_ITEM, 4, 0]).toString('hex'),
        example('stream-end-error'),
      );
    } finally {
      peer.close();
    }
  });

  it('section 10: a reused outstanding msgid gets PROTOCOL while the original carries on', async () => {
    const peer = await RawPeer.connect(path);
    try {
      peer.send(encode([0, 7, 'calc.sleep', [{ ms: 100 }]]));
      peer.send(encode([0, 7, 'calc.add', [{ a: 1, b: 2 }]]));
      expect(decode(Buffer.from(await peer.next(), 'hex'))).toEqual([1, 7, 'PROTOCOL: message id 7 is already in use', null]);
      expect(decode(Buffer.from(await peer.next(), 'hex'))).toEqual([1, 7, null, 'done']);
    } finally {
      peer.close();
    }
  });

  it('section 9: a cancelled msgid gets no response and is free again at once', async () => {
    const peer = await RawPeer.connect(path);
    try {
      peer.send(encode([0, 8, 'calc.sleep', [{ ms: 150 }]]));
      peer.send(encode([4, 8]));
      peer.send(encode([0, 8, 'calc.add', [{ a: 1, b: 2 }]]));
      expect(decode(Buffer.from(await peer.next(), 'hex'))).toEqual([1, 8, null, 3]);
      await expect(peer.next(400)).rejects.toThrow(/no frame/);
    } finally {
      peer.close();
    }
  });
});

describe('docs/PROTOCOL.md: msgids are free once cancelled, also while input validation is pending', () => {
  // An input schema that validates asynchronously, taking `ms` milliseconds.
  const slow = defineChannel({
    name: 'slow',
    version: 1,
    rpc: {
      check: {
        input: z.object({ ms: z.number() }).refine(async ({ ms }) => {
          await sleep(ms);
          return true;
        }),
        output: z.string(),
      },
    },
  });
  let server: Server<typeof slow> | undefined;
  let path: string;

  beforeAll(async () => {
    path = tempSocketPath();
    server = await serve(slow, `unix://${path}`, { check: ({ ms }) => `checked ${ms}` });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a new call that reuses the id of a call cancelled during validation', async () => {
    const peer = await RawPeer.connect(path);
    try {
      peer.send(encode([0, 5, 'slow.check', [{ ms: 50 }]]));
      peer.send(encode([4, 5]));
      await sleep(10);
      // Reuses id 5 while the cancelled call's validation is still running.
      peer.send(encode([0, 5, 'slow.check', [{ ms: 200 }]]));
      expect(decode(Buffer.from(await peer.next(), 'hex'))).toEqual([1, 5, null, 'checked 200']);
    } finally {
      peer.close();
    }
  });
});

/** A hand-written server: it answers a real procwire client with bytes taken from the document. */
describe('docs/PROTOCOL.md: what a real procwire client sends and understands', () => {
  let fake: NetServer;
  let path: string;
  let peer: RawPeer;
  let client: Client<typeof calc>;

  beforeAll(async () => {
    path = tempSocketPath();
    const accepted = new Promise<RawPeer>((resolve) => {
      fake = createServer((socket) => resolve(new RawPeer(socket)));
    });
    await new Promise<void>((resolve) => fake.listen(path, resolve));
    const connecting = connect(calc, `unix://${path}`);
    peer = await accepted;
    expect(await peer.next(), 'the client begins with hello-client').toBe(example('hello-client').hex);
    peer.send(example('hello-server').bytes);
    client = await connecting;
  });
  afterAll(async () => {
    await client?.close();
    peer?.close();
    await new Promise((resolve) => fake.close(resolve));
  });

  it('sends the request and the stream messages of the examples', async () => {
    const sum = client.rpc.add({ a: 1, b: 2 });
    expect(await peer.next()).toBe(example('request').hex);
    peer.send(example('response').bytes);
    expect(await sum).toBe(3);

    const stream = client.stream.count({ to: 3 })[Symbol.asyncIterator]();
    const first = stream.next();
    expect(await peer.next()).toBe(example('stream-open').hex);
    // The server may send as many items as the opening credit allows.
    const credit = (example('stream-open').value as number[])[4]!;
    peer.send(example('stream-item').bytes);
    for (let i = 1; i < credit; i++) peer.send(encode([MessageType.STREAM_ITEM, 2, i]));
    expect(await first).toEqual({ done: false, value: 0 });
    const grant = (example('stream-credit').value as number[])[2]!;
    expect(grant * 2).toBe(credit); // half a window at a time
    for (let i = 1; i < grant; i++) expect(await stream.next()).toEqual({ done: false, value: i });
    expect(await peer.next(), 'credit after half a window').toBe(example('stream-credit').hex);
    await stream.return!();
    expect(await peer.next(), 'cancel when the reader stops').toBe(example('cancel').hex);
  });

  const errorExamples = blocks('wire-error').map((b) => ({
    error: JSON.parse(required(b, 'error')) as unknown,
    code: required(b, 'code'),
    message: required(b, 'message'),
    data: b.data === undefined ? undefined : (JSON.parse(b.data) as unknown),
  }));

  it('documents how each error shape is read', () => {
    expect(errorExamples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(errorExamples.map((e) => [JSON.stringify(e.error), e] as const))('reads the error value %s', async (_, e) => {
    const call = client.rpc.add({ a: 1, b: 2 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const request = decode(Buffer.from(await peer.next(), 'hex')) as unknown[];
    expect(request[0]).toBe(MessageType.REQUEST);
    peer.send(encode([MessageType.RESPONSE, request[1], e.error, null]));
    const error = await call;
    expect(error).toBeInstanceOf(ProcwireError);
    expect((error as ProcwireError).code).toBe(e.code);
    expect((error as ProcwireError).message).toBe(e.message);
    expect((error as ProcwireError).data).toEqual(e.data);
  });
});

describe('docs/PROTOCOL.md section 5: the handshake, from the client side', () => {
  /** A hand-written server on a fresh socket path; resolves the raw peer of the first connection. */
  async function fakeServer(): Promise<{ url: string; accepted: Promise<RawPeer>; close(): Promise<void> }> {
    const path = tempSocketPath();
    let net!: NetServer;
    const accepted = new Promise<RawPeer>((resolve) => {
      net = createServer((socket) => resolve(new RawPeer(socket)));
    });
    await new Promise<void>((resolve) => net.listen(path, resolve));
    return {
      url: `unix://${path}`,
      accepted,
      close: async () => {
        (await Promise.race([accepted, Promise.resolve(undefined)]))?.close();
        await new Promise((resolve) => net.close(resolve));
      },
    };
  }

  it('accepts events sent before the hello answer', async () => {
    const fake = await fakeServer();
    try {
      const connecting = connect(calc, fake.url);
      const peer = await fake.accepted;
      expect(await peer.next()).toBe(example('hello-client').hex);
      peer.send(example('notification').bytes);
      peer.send(example('hello-server').bytes);
      const client = await connecting;
      await client.close();
    } finally {
      await fake.close();
    }
  });

  it('refuses an endpoint whose first answer is not a hello, with PROTOCOL', async () => {
    const fake = await fakeServer();
    try {
      const connecting = connect(calc, fake.url).then(
        () => undefined,
        (error: unknown) => error,
      );
      const peer = await fake.accepted;
      await peer.next();
      // What a plain msgpack-rpc server does with a message type it does not know.
      peer.send(encode([MessageType.RESPONSE, 0, 'Invalid message type', null]));
      const error = await connecting;
      expect(error).toBeInstanceOf(ProcwireError);
      expect((error as ProcwireError).code).toBe(ErrorCode.PROTOCOL);
    } finally {
      await fake.close();
    }
  });

  it('rejects a server of another channel version with VERSION_MISMATCH', async () => {
    const fake = await fakeServer();
    try {
      const connecting = connect(calc, fake.url).then(
        () => undefined,
        (error: unknown) => error,
      );
      const peer = await fake.accepted;
      await peer.next();
      const hello = example('hello-server').value as [number, Record<string, unknown>];
      peer.send(encode([hello[0], { ...hello[1], version: 2 }]));
      const error = await connecting;
      expect((error as ProcwireError).code).toBe(ErrorCode.VERSION_MISMATCH);
      expect((error as ProcwireError).data).toEqual({ server: 2, client: 1 });
    } finally {
      await fake.close();
    }
  });
});
