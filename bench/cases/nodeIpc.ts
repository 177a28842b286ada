/**
 * node-ipc 9.2.1 over a Unix socket, used the way its README shows:
 * `connectTo` / `emit(type, data)` / `on(type)`. Its wire format is JSON
 * text with a '\f' delimiter. Logging is off (`silent`), otherwise it would
 * print every message and measure the terminal.
 */
import { join } from 'node:path';
import ipc from 'node-ipc';
import { startServer, stopServer } from '../lib/children.js';
import type { SessionSpec } from '../lib/session.js';
import { BurstCounter, OneInFlight, type BenchClient } from './common.js';

const SERVER_ID = 'bench';

export async function openNodeIpc(spec: SessionSpec): Promise<BenchClient> {
  const path = join(spec.socketDir, `node-ipc-${process.pid}.sock`);
  const server = await startServer('nodeIpcServer.ts', [path]);
  ipc.config.silent = true;
  // The server is already listening; a drop later means the run is over, not a reason to reconnect.
  ipc.config.stopRetrying = true;
  ipc.config.maxRetries = 0;
  await new Promise<void>((resolve, reject) => {
    ipc.connectTo(SERVER_ID, path, () => {
      ipc.of[SERVER_ID]!.on('connect', () => resolve());
      ipc.of[SERVER_ID]!.on('error', (error: Error) => reject(error));
    });
  });
  const peer = ipc.of[SERVER_ID]!;
  const inflight = new OneInFlight();
  const burst = new BurstCounter();
  peer.on('echo', (data) => inflight.settle(data));
  peer.on('tick', () => burst.tick());
  return {
    serverPid: server.child.pid,
    roundTrip(payload) {
      const answer = inflight.wait();
      peer.emit('echo', payload);
      return answer;
    },
    receiveBurst(count, size) {
      const done = burst.start(count);
      peer.emit('burst', { count, size });
      return done;
    },
    received: () => burst.received,
    async close() {
      ipc.disconnect(SERVER_ID);
      await stopServer(server.child);
    },
  };
}
