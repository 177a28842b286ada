/**
 * The JavaScript floor: a Node socket, msgpackr (its default `pack`/`unpack`,
 * plain maps, no records) and a 4-byte length prefix, no framework. One
 * socket.write() per message, decode on 'data'. The same code runs over a
 * Unix socket, TCP (Nagle off, as procwire sets it) and a socketpair
 * inherited by the server, so each procwire transport has a floor over the
 * same kernel mechanism.
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { startServer, stopServer, type StartedServer } from '../lib/children.js';
import { frame, FrameReader } from '../lib/lengthPrefix.js';
import type { SessionSpec } from '../lib/session.js';
import { BurstCounter, OneInFlight, type BenchClient } from './common.js';

type Transport = 'unix' | 'tcp' | 'socketpair';

async function open(spec: SessionSpec, transport: Transport): Promise<{ server: StartedServer; socket: Socket }> {
  if (transport === 'socketpair') {
    // stdio 'pipe' is a socketpair under libuv: the same mechanism procwire's spawn() uses.
    const server = await startServer('rawServer.ts', ['socketpair'], ['pipe']);
    return { server, socket: server.child.stdio[3] as Socket };
  }
  if (transport === 'unix') {
    const path = join(spec.socketDir, `raw-${process.pid}.sock`);
    const server = await startServer('rawServer.ts', ['unix', path]);
    const socket = createConnection(path);
    await once(socket, 'connect');
    return { server, socket };
  }
  const server = await startServer('rawServer.ts', ['tcp']);
  const socket = createConnection({ host: '127.0.0.1', port: Number(server.info) });
  await once(socket, 'connect');
  socket.setNoDelay(true);
  return { server, socket };
}

export async function openRaw(spec: SessionSpec, transport: Transport): Promise<BenchClient> {
  const { server, socket } = await open(spec, transport);
  const inflight = new OneInFlight();
  const burst = new BurstCounter();
  const reader = new FrameReader((body) => {
    const message = unpack(body);
    if (burst.active) burst.tick();
    else inflight.settle(message);
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => {});
  return {
    serverPid: server.child.pid,
    roundTrip(payload) {
      const answer = inflight.wait();
      socket.write(frame(pack(payload)));
      return answer;
    },
    receiveBurst(count, size) {
      const done = burst.start(count);
      socket.write(frame(pack({ count, size })));
      return done;
    },
    receiveBytes(count, size) {
      const done = burst.start(count);
      socket.write(frame(pack({ count, size, blob: true })));
      return done;
    },
    received: () => burst.received,
    async close() {
      socket.destroy();
      await stopServer(server.child);
    },
  };
}
