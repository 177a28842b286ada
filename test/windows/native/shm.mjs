// ShmChannel and BellWatcher on Windows: the shm: transport's ring
// (src/common/ring.h) in a named file mapping, with named auto-reset events
// as bells. Two channels in this process, then a client in another process
// that opens the mapping by name; owner-only descriptors on the mapping and
// both events; typed errors for bad arguments; idempotent close.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { assertOwnerOnly, native, run, until, uniqueName } from './lib/support.mjs';
import { bell, receiveFrame, sendFrame } from './fixtures/shmPeer.mjs';

const { ShmChannel, BellWatcher } = native;
const child = fileURLToPath(new URL('./fixtures/shmChild.mjs', import.meta.url));
const CAP = 4096;
const MAX = 1 << 20;

function pair(capacity = CAP) {
  const name = uniqueName('shm');
  const server = new ShmChannel(name, 0, capacity, MAX, true);
  const client = new ShmChannel(name, 1, capacity, MAX, false);
  return { name, server, client };
}

function readAll(channel) {
  const out = new Uint8Array(CAP);
  const ends = new Uint32Array(64);
  const count = channel.readWhole(out, 0, ends);
  const frames = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    frames.push(Buffer.from(out.subarray(start, ends[i])).toString());
    start = ends[i];
  }
  return frames;
}

function throwsCode(fn, code, extra = {}) {
  assert.throws(fn, (error) => {
    assert.equal(error.code, code, `${error.code}: ${error.message}`);
    for (const [key, value] of Object.entries(extra)) assert.equal(error[key], value, key);
    return true;
  });
}

await run(import.meta.url, [
  [
    'two channels on one mapping exchange frames both ways (write, writeParts, writeFrames, readWhole)',
    () => {
      const { name, server, client } = pair();
      assert.equal(server.path, `Local\\procwire-shm-${name}`);
      assert.equal(client.hasInput(), false);
      assert.equal(server.room(), CAP);
      assert.equal(server.nextLength(), -3);
      assert.equal(server.write(Buffer.from('hello'), 0), 5);
      assert.equal(client.writeParts([Buffer.from('wor'), Buffer.from('ld')], 0), 5);
      assert.equal(server.writeFrames([Buffer.from('a'), Buffer.from('bb'), Buffer.from('ccc')], 1), 2);
      assert.equal(client.hasInput(), true);
      assert.deepEqual(readAll(client), ['hello', 'bb', 'ccc']);
      assert.deepEqual(readAll(server), ['world']);
      assert.equal(client.hasInput(), false);
      // A whole record that does not fit waits (offset unchanged), then goes in.
      const fill = randomBytes(CAP - 4);
      assert.equal(server.write(fill, 0), CAP - 4);
      assert.equal(server.room(), 0);
      assert.equal(server.write(Buffer.from('x'), 0), 0);
      const out = new Uint8Array(CAP);
      const ends = new Uint32Array(4);
      assert.equal(client.readWhole(out, 0, ends), 1);
      assert.ok(Buffer.from(out.subarray(0, ends[0])).equals(fill));
      assert.equal(server.write(Buffer.from('x'), 0), 1);
      assert.deepEqual(readAll(client), ['x']);
      server.close();
      client.close();
    },
  ],
  [
    'a frame larger than the ring (300,000 B through 4 KiB) goes through in pieces, both ways',
    () => {
      const { server, client } = pair();
      for (const [from, to] of [
        [server, client],
        [client, server],
      ]) {
        const frame = randomBytes(300_000);
        let written = 0;
        let read = 0;
        let out = null;
        let rounds = 0;
        while (read < frame.length) {
          if (written < frame.length) written = from.write(frame, written);
          if (out === null) {
            const length = to.nextLength();
            if (length > 0) out = new Uint8Array(length);
          }
          if (out !== null) read = to.readPiece(out, read);
          rounds++;
        }
        assert.ok(Buffer.from(out).equals(frame));
        assert.ok(rounds > 70, `${rounds} rounds`);
      }
      server.close();
      client.close();
    },
  ],
  [
    "sleep() then the peer's write rings this side's BellWatcher (once); awake() withdraws",
    async () => {
      const { name, server, client } = pair();
      let rings = 0;
      const watcher = new BellWatcher(name, 1, () => rings++);
      assert.equal(watcher.path, `Local\\procwire-shm-${name}-c`);
      assert.equal(client.sleep(0), true);
      server.write(Buffer.from('one'), 0);
      server.write(Buffer.from('two'), 0);
      await until(() => rings === 1, 5000, 'the ring');
      client.awake(true);
      assert.deepEqual(readAll(client), ['one', 'two']);
      // Not asked: no ring.
      server.write(Buffer.from('three'), 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(rings, 1);
      // sleep() with input waiting says no.
      assert.equal(client.sleep(0), false);
      // The writer asks for room: the reader's read rings the server's bell.
      let serverRings = 0;
      const serverWatcher = new BellWatcher(name, 0, () => serverRings++);
      readAll(client);
      server.write(randomBytes(CAP - 4), 0);
      assert.equal(server.sleep(100), true);
      readAll(client);
      await until(() => serverRings === 1, 5000, "the server's ring");
      server.awake(true);
      assert.equal(server.spin(1000, 100, true), true);
      assert.equal(server.spin(1000, 0, false), false);
      watcher.close();
      watcher.close();
      serverWatcher.close();
      server.close();
      client.close();
    },
  ],
  [
    'a client in another process opens the mapping by name; frames (one of 1 MiB) go both ways on bells',
    async () => {
      const name = uniqueName('shmx');
      const capacity = 16384;
      const server = new ShmChannel(name, 0, capacity, MAX, true);
      const own = bell(native, name, 0);
      const proc = spawn(process.execPath, [child, name, String(capacity), String(MAX)], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const exited = new Promise((resolve) => proc.on('exit', resolve));
      const roundTrip = async (frame) => {
        await sendFrame(server, own, frame, capacity);
        return Buffer.from(await receiveFrame(server, own));
      };
      for (let i = 0; i < 50; i++) {
        const frame = Buffer.from(`frame ${i}`);
        assert.ok((await roundTrip(frame)).equals(frame));
      }
      const big = randomBytes(MAX);
      assert.ok((await roundTrip(big)).equals(big), 'the 1 MiB frame');
      const seen = JSON.parse((await roundTrip(Buffer.from('sd'))).toString());
      const sid = native.currentUserSid();
      for (const key of ['mapping', 'serverBell', 'clientBell']) assertOwnerOnly(seen[key], sid);
      const bye = (await roundTrip(Buffer.from('bye'))).toString();
      assert.equal(await exited, 0);
      assert.ok(own.rings > 0);
      own.watcher.close();
      server.close();
      return `server rang ${own.rings} times, child ${bye.split(' ')[1]}`;
    },
  ],
  [
    'the mapping and both events are owner-only (GetSecurityInfo as SDDL)',
    () => {
      const { server, client } = pair();
      const sid = native.currentUserSid();
      const sds = server.securityDescriptors();
      for (const key of ['mapping', 'serverBell', 'clientBell']) assertOwnerOnly(sds[key], sid);
      assert.deepEqual(client.securityDescriptors(), sds);
      server.close();
      client.close();
      return sds.mapping;
    },
  ],
  [
    'bad arguments give typed errors; Win32 failures are system errors',
    () => {
      throwsCode(() => new ShmChannel('', 0, CAP, MAX, true), 'ERR_INVALID_ARG_VALUE');
      throwsCode(() => new ShmChannel('a\\b', 0, CAP, MAX, true), 'ERR_INVALID_ARG_VALUE');
      throwsCode(() => new ShmChannel(1, 0, CAP, MAX, true), 'ERR_INVALID_ARG_TYPE');
      throwsCode(() => new ShmChannel('x', 2, CAP, MAX, true), 'ERR_OUT_OF_RANGE');
      throwsCode(() => new ShmChannel('x', 0, 5000, MAX, true), 'ERR_OUT_OF_RANGE');
      throwsCode(() => new ShmChannel('x', 0, 1024, MAX, true), 'ERR_OUT_OF_RANGE');
      throwsCode(() => new ShmChannel('x', 0, CAP, 0, true), 'ERR_OUT_OF_RANGE');
      throwsCode(() => new ShmChannel('x', 0, CAP, MAX, 'yes'), 'ERR_INVALID_ARG_TYPE');
      throwsCode(() => new ShmChannel(uniqueName('none'), 1, CAP, MAX, false), 'ENOENT', { syscall: 'OpenFileMappingW' });
      throwsCode(() => new BellWatcher(uniqueName('none'), 0, () => {}), 'ENOENT', { syscall: 'OpenEventW' });
      throwsCode(() => new BellWatcher('x', 0), 'ERR_INVALID_ARG_TYPE');
      const { name, server, client } = pair();
      // The name is taken: a second creator is refused.
      throwsCode(() => new ShmChannel(name, 0, CAP, MAX, true), 'EEXIST', { syscall: 'CreateFileMappingW' });
      // A mapping smaller than the rings asked for is refused.
      throwsCode(() => new ShmChannel(name, 1, CAP * 2, MAX, false), 'EINVAL', { syscall: 'MapViewOfFile' });
      throwsCode(() => server.write(new Uint8Array(0), 0), 'ERR_OUT_OF_RANGE');
      throwsCode(() => server.write('text', 0), 'ERR_INVALID_ARG_TYPE');
      throwsCode(() => server.writeParts([new Uint16Array(2)], 0), 'ERR_INVALID_ARG_TYPE');
      throwsCode(() => server.writeFrames([new Uint8Array(CAP)], 0), 'ERR_OUT_OF_RANGE');
      throwsCode(() => server.readWhole(new Uint8Array(4), 0, []), 'ERR_INVALID_ARG_TYPE');
      throwsCode(() => server.awake(1), 'ERR_INVALID_ARG_TYPE');
      server.close();
      server.close();
      throwsCode(() => server.write(Buffer.from('x'), 0), 'ERR_INVALID_STATE');
      throwsCode(() => server.hasInput(), 'ERR_INVALID_STATE');
      throwsCode(() => server.securityDescriptors(), 'ERR_INVALID_STATE');
      client.close();
      // Once every handle is closed the name is free again.
      const again = new ShmChannel(name, 0, CAP, MAX, true);
      again.close();
    },
  ],
  [
    'BellWatcher: unref() then ref(), close() from its own callback and again',
    async () => {
      const { name, server, client } = pair();
      let watcher;
      let rings = 0;
      watcher = new BellWatcher(name, 1, () => {
        rings++;
        watcher.close();
      });
      watcher.unref();
      watcher.ref();
      client.sleep(0);
      server.write(Buffer.from('x'), 0);
      await until(() => rings === 1, 5000, 'the ring');
      watcher.close();
      server.close();
      client.close();
    },
  ],
]);
