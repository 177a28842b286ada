/**
 * Node's own channel: child_process.fork() and process.send(), with
 * serialization 'advanced' (structured clone, V8 serializer) or 'json'.
 * Node carries it over a pipe it creates for the IPC channel; each message
 * is one send() and one 'message' event.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { expectExit, serverModule, stopServer, track } from '../lib/children.js';
import type { SessionSpec } from '../lib/session.js';
import { BurstCounter, OneInFlight, type BenchClient } from './common.js';

export async function openProcessSend(_spec: SessionSpec, serialization: 'advanced' | 'json'): Promise<BenchClient> {
  const child = track(
    fork(serverModule('processSendServer.ts'), [], {
      serialization,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  // The server's first message says its handler is installed.
  await once(child, 'message');
  const inflight = new OneInFlight();
  const burst = new BurstCounter();
  child.on('message', (message) => {
    if (burst.active) burst.tick();
    else inflight.settle(message);
  });
  return {
    serverPid: child.pid,
    roundTrip(payload) {
      const answer = inflight.wait();
      child.send(payload);
      return answer;
    },
    receiveBurst(count, size) {
      const done = burst.start(count);
      child.send({ count, size });
      return done;
    },
    received: () => burst.received,
    async close() {
      expectExit(child);
      child.disconnect();
      await stopServer(child);
    },
  };
}
