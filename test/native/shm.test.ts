/**
 * Shared-memory segments, doorbells and ShmChannel through @procwire/native
 * (Linux). Both ends of a channel live in this process here; the transport
 * tests run them across processes. Under .ci/native-sanitizers.sh these run
 * against the AddressSanitizer build, so every corrupt-ring case below is
 * also a proof that the reader stays inside the segment.
 */
import { randomBytes } from 'node:crypto';
import { ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { native, type ShmChannel } from '@procwire/native';
import { isCloseOnExec, thrown } from './helpers.js';

const HEADER = 256;
const NOT_YET = -3;
const opened: number[] = [];
const channels: ShmChannel[] = [];
afterEach(() => {
  for (const channel of channels.splice(0)) channel.close();
  for (const fd of opened.splice(0)) native.close(fd);
});

function track<T extends number>(fd: T): T {
  opened.push(fd);
  return fd;
}

/** A server end and a client end over one fresh segment. */
function pair(capacity = 4096, maxFrame = 1 << 20) {
  const segment = track(native.createSegment(2 * (HEADER + capacity)));
  const serverBell = track(native.createEventFd());
  const clientBell = track(native.createEventFd());
  const server = new native.ShmChannel(segment, 0, capacity, maxFrame, serverBell, clientBell);
  const client = new native.ShmChannel(segment, 1, capacity, maxFrame, clientBell, serverBell);
  channels.push(server, client);
  return { segment, server, client, serverBell, clientBell, capacity };
}

/** Reads every whole frame waiting; returns them as separate buffers. */
function readAll(channel: ShmChannel): Buffer[] {
  const out = Buffer.alloc(1 << 16);
  const ends = new Uint32Array(64);
  const frames: Buffer[] = [];
  let at = 0;
  for (;;) {
    const count = channel.readWhole(out, at, ends);
    if (count === 0) return frames;
    for (let i = 0; i < count; i++) {
      frames.push(Buffer.from(out.subarray(at, ends[i])));
      at = ends[i]!;
    }
  }
}

/** Bytes waiting in an eventfd (reading resets it); 0 when it did not ring. */
function bellCount(fd: number): number {
  const buffer = Buffer.alloc(8);
  try {
    const read = readSync(fd, buffer, 0, 8, null);
    return read === 8 ? Number(buffer.readBigUInt64LE()) : 0;
  } catch {
    return 0; // EAGAIN: not rung
  }
}

/** Writes `value` as a little-endian uint32 into the segment at `offset` (what a hostile peer can do). */
function poke(segment: number, offset: number, value: number): void {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value >>> 0);
  writeSync(segment, bytes, 0, 4, offset);
}

describe('segments', () => {
  it('are sealed against resizing, zero-filled, close-on-exec', () => {
    const fd = track(native.createSegment(8192));
    expect(native.segmentInfo(fd)).toEqual({ size: 8192, sealed: true });
    expect(isCloseOnExec(fd)).toBe(true);
    expect(() => ftruncateSync(fd, 0)).toThrow(/EPERM/);
    expect(() => ftruncateSync(fd, 1 << 20)).toThrow(/EPERM/);
    const bytes = Buffer.alloc(8192, 1);
    readSync(fd, bytes, 0, 8192, 0);
    expect(bytes.every((b) => b === 0)).toBe(true);
  });

  it('reports an ordinary file as not sealed', () => {
    const fd = track(openSync('/proc/self/status', 'r'));
    expect(native.segmentInfo(fd).sealed).toBe(false);
  });

  it('refuses bad arguments with Node-style errors', () => {
    expect(thrown(() => native.createSegment(0)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => native.createSegment('1' as unknown as number)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('eventfds are non-blocking and close-on-exec', () => {
    const fd = track(native.createEventFd());
    expect(isCloseOnExec(fd)).toBe(true);
    expect(bellCount(fd)).toBe(0);
  });
});

describe('ShmChannel', () => {
  it('carries frames both ways, in order, across the ring end many times', () => {
    const { server, client, capacity } = pair();
    const sent: Buffer[] = [];
    const received: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const frame = randomBytes(1 + ((i * 37) % 900));
      if (client.write(frame, 0) !== frame.length) {
        received.push(...readAll(server));
        if (client.write(frame, 0) !== frame.length) throw new Error('no room after reading');
      }
      sent.push(frame);
    }
    received.push(...readAll(server));
    expect(received).toEqual(sent);
    expect(sent.reduce((n, f) => n + f.length + 4, 0)).toBeGreaterThan(100 * capacity);
    const reply = Buffer.from('the other way');
    expect(server.write(reply, 0)).toBe(reply.length);
    expect(readAll(client)).toEqual([reply]);
  });

  it('writes a frame that fits the ring whole or not at all', () => {
    const { server, client } = pair(4096);
    expect(client.write(Buffer.alloc(3000, 1), 0)).toBe(3000);
    expect(client.room()).toBe(4096 - 3004);
    expect(client.write(Buffer.alloc(2000, 2), 0)).toBe(0);
    expect(server.nextLength()).toBe(3000);
    expect(readAll(server)).toHaveLength(1);
    expect(client.write(Buffer.alloc(2000, 2), 0)).toBe(2000);
  });

  it('moves a frame larger than the ring in pieces', () => {
    const { server, client } = pair(4096);
    const frame = randomBytes(50_000);
    const into = Buffer.alloc(frame.length);
    let sentAt = 0;
    let readAt = 0;
    while (readAt < frame.length) {
      if (sentAt < frame.length) sentAt = client.write(frame, sentAt);
      expect(server.readWhole(Buffer.alloc(100_000), 0, new Uint32Array(4))).toBe(0);
      expect(server.nextLength()).toBe(frame.length);
      readAt = server.readPiece(into, readAt);
    }
    expect(into.equals(frame)).toBe(true);
    expect(server.nextLength()).toBe(NOT_YET);
  });

  it('rings the peer only when it asked to be woken, once', () => {
    const { server, client, serverBell, clientBell } = pair();
    client.write(Buffer.from('a'), 0);
    expect(bellCount(serverBell)).toBe(0);
    readAll(server);
    // Nothing waiting: the server may sleep, and the next write rings it once.
    expect(server.sleep(0)).toBe(true);
    client.write(Buffer.from('b'), 0);
    client.write(Buffer.from('c'), 0);
    expect(bellCount(serverBell)).toBe(1);
    // Input already there: sleeping is refused (no wake-up can be lost).
    expect(server.sleep(0)).toBe(false);
    readAll(server);
    server.awake(true);
    // A writer waiting for room is rung when the reader frees it.
    const { server: s2, client: c2, clientBell: bell2 } = pair(4096);
    expect(c2.write(Buffer.alloc(4000), 0)).toBe(4000);
    expect(c2.sleep(4004)).toBe(true);
    readAll(s2);
    expect(bellCount(bell2)).toBe(1);
    expect(bellCount(clientBell)).toBe(0);
  });

  it('writes a frame given in parts, and several whole frames published together', () => {
    const { server, client } = pair(4096);
    const parts = [Buffer.from('he'), Buffer.from(''), Buffer.from('llo')];
    expect(client.writeParts(parts, 0)).toBe(5);
    const frames = [Buffer.from('a'), Buffer.from('bb'), Buffer.alloc(4080, 3), Buffer.from('ccc')];
    // The third does not fit after the first two (and the earlier one): writing stops there.
    expect(client.writeFrames(frames, 0)).toBe(2);
    expect(readAll(server)).toEqual([Buffer.from('hello'), Buffer.from('a'), Buffer.from('bb')]);
    expect(client.writeFrames(frames, 2)).toBe(2);
    expect(readAll(server).map((f) => f.length)).toEqual([4080, 3]);
    expect(thrown(() => client.writeFrames([Buffer.alloc(4093)], 0)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => client.writeFrames([new Uint16Array(2) as unknown as Uint8Array], 0)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => client.writeFrames(frames, 5)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => client.writeParts([Buffer.alloc(0)], 0)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => client.writeParts('x' as unknown as Uint8Array[], 0)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('spins until input arrives or the time is up', () => {
    const { server, client } = pair();
    const started = performance.now();
    expect(server.spin(2000, 0, false)).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1.9);
    client.write(Buffer.from('x'), 0);
    expect(server.spin(1_000_000, 0, true)).toBe(true);
  });

  it('is inert once closed', () => {
    const { client } = pair();
    client.close();
    client.close();
    expect(thrown(() => client.write(Buffer.from('x'), 0)).code).toBe('ERR_INVALID_STATE');
    expect(thrown(() => client.hasInput()).code).toBe('ERR_INVALID_STATE');
  });

  it('refuses a segment of the wrong size, a bad capacity, bad arguments', () => {
    const bell = track(native.createEventFd());
    const segment = track(native.createSegment(2 * (HEADER + 4096) + 1));
    expect(thrown(() => new native.ShmChannel(segment, 0, 4096, 1024, bell, bell)).code).toBe('EINVAL');
    const good = track(native.createSegment(2 * (HEADER + 4096)));
    expect(thrown(() => new native.ShmChannel(good, 0, 5000, 1024, bell, bell)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => new native.ShmChannel(good, 2 as 0, 4096, 1024, bell, bell)).code).toBe('ERR_OUT_OF_RANGE');
    const { client, server } = pair();
    expect(thrown(() => client.write(Buffer.alloc(0), 0)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => client.write(Buffer.alloc(4), 4)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => server.readWhole(Buffer.alloc(4), 0, new Int32Array(4) as unknown as Uint32Array)).code).toBe(
      'ERR_INVALID_ARG_TYPE',
    );
    expect(thrown(() => server.readWhole(Buffer.alloc(4), 5, new Uint32Array(4))).code).toBe('ERR_OUT_OF_RANGE');
  });
});

describe('ShmChannel with a hostile peer writing the segment', () => {
  // Server side reads ring 0 (offset 0): tail at 0, head at 64, data from 256.
  const TAIL = 0;
  const DATA = HEADER;

  it('a tail beyond the capacity is EPROTO', () => {
    const { server, segment } = pair(4096);
    poke(segment, TAIL, 4097);
    expect(thrown(() => server.readWhole(Buffer.alloc(8192), 0, new Uint32Array(8))).code).toBe('EPROTO');
    expect(thrown(() => server.nextLength()).code).toBe('EPROTO');
    poke(segment, TAIL, 0xffffffff);
    expect(thrown(() => server.readWhole(Buffer.alloc(8192), 0, new Uint32Array(8))).code).toBe('EPROTO');
  });

  it('a record length of 0 is EPROTO, above the frame limit EMSGSIZE', () => {
    const zero = pair(4096, 1000);
    poke(zero.segment, DATA, 0);
    poke(zero.segment, TAIL, 8);
    expect(thrown(() => zero.server.nextLength()).code).toBe('EPROTO');
    const huge = pair(4096, 1000);
    poke(huge.segment, DATA, 1001);
    poke(huge.segment, TAIL, 8);
    expect(thrown(() => huge.server.readWhole(Buffer.alloc(8192), 0, new Uint32Array(8))).code).toBe('EMSGSIZE');
    poke(huge.segment, DATA, 0xffffffff);
    expect(thrown(() => huge.server.nextLength()).code).toBe('EMSGSIZE');
  });

  it('a record that fits the ring but is only partly published is EPROTO (an honest writer publishes it whole)', () => {
    const { server, segment } = pair(4096);
    poke(segment, DATA, 500);
    poke(segment, TAIL, 100);
    expect(thrown(() => server.readWhole(Buffer.alloc(8192), 0, new Uint32Array(8))).code).toBe('EPROTO');
    expect(thrown(() => server.nextLength()).code).toBe('EPROTO');
  });

  it('a record larger than the ring is read in pieces, never past what was published', () => {
    const { server, segment } = pair(4096, 1 << 20);
    poke(segment, DATA, 50_000);
    poke(segment, TAIL, 100);
    expect(server.readWhole(Buffer.alloc(8192), 0, new Uint32Array(8))).toBe(0);
    expect(server.nextLength()).toBe(50_000);
    const into = Buffer.alloc(50_000);
    expect(server.readPiece(into, 0)).toBe(96);
    expect(server.readPiece(into, 96)).toBe(96);
  });

  it('a head moved beyond the tail makes the writer refuse (EPROTO), never overwrite', () => {
    const { client, segment } = pair(4096);
    // The client writes ring 0; its head (read by the client) is at offset 64.
    poke(segment, 64, 5000);
    expect(thrown(() => client.write(Buffer.from('x'), 0)).code).toBe('EPROTO');
    expect(thrown(() => client.room()).code).toBe('EPROTO');
  });

  it('random header and data values never escape the segment', () => {
    const seed = Number(process.env.PROCWIRE_FUZZ_SEED ?? Date.now() % 1e9);
    let state = seed;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state;
    };
    const interesting = [0, 1, 3, 4, 5, 4095, 4096, 4097, 2 ** 31, 2 ** 32 - 1, 2 ** 32 - 4, 1 << 20];
    const value = () => (random() % 2 === 0 ? interesting[random() % interesting.length]! : random() * 2 + (random() % 2));
    const outcomes = { ok: 0, error: 0 };
    for (let round = 0; round < 300; round++) {
      const { server, client, segment } = pair(4096, 10_000);
      for (let step = 0; step < 20; step++) {
        const where = [0, 64, 128, 192, DATA + (random() % 4096), HEADER + 4096 + (random() % 256)][random() % 6]!;
        poke(segment, Math.min(where, 2 * (HEADER + 4096) - 4), value());
        try {
          server.readWhole(Buffer.alloc(20_000), 0, new Uint32Array(16));
          const length = server.nextLength();
          if (length > 0) server.readPiece(Buffer.alloc(length), 0);
          client.write(randomBytes(1 + (random() % 5000)), 0);
          outcomes.ok++;
        } catch (error) {
          expect(['EPROTO', 'EMSGSIZE', 'ERR_OUT_OF_RANGE']).toContain((error as NodeJS.ErrnoException).code);
          outcomes.error++;
        }
      }
    }
    // Seed in the failure message so a failing run can be replayed.
    expect(outcomes.ok + outcomes.error, `seed ${seed}`).toBe(6000);
    expect(outcomes.error, `seed ${seed}`).toBeGreaterThan(0);
  });
});
