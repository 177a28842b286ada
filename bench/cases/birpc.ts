/**
 * birpc 4.2 over a Unix socket, with msgpackr or JSON (see lib/birpcWire.ts).
 * Round trip = a proxied call `rpc.echo()`; one-way = the server calling the
 * client's `tick` with `$callEvent` (no response asked for).
 */
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { createBirpc } from 'birpc';
import { birpcOverSocket, type BirpcClientFunctions, type BirpcCodec, type BirpcServerFunctions } from '../lib/birpcWire.js';
import { startServer, stopServer } from '../lib/children.js';
import type { SessionSpec } from '../lib/session.js';
import { BurstCounter, type BenchClient } from './common.js';

export async function openBirpc(spec: SessionSpec, codec: BirpcCodec): Promise<BenchClient> {
  const path = join(spec.socketDir, `birpc-${process.pid}.sock`);
  const server = await startServer('birpcServer.ts', [path, codec]);
  const socket = createConnection(path);
  await once(socket, 'connect');
  const burst = new BurstCounter();
  const rpc = createBirpc<BirpcServerFunctions, BirpcClientFunctions>({ tick: () => burst.tick() }, birpcOverSocket(socket, codec));
  return {
    serverPid: server.child.pid,
    roundTrip: (payload) => rpc.echo(payload),
    async receiveBurst(count, size) {
      const done = burst.start(count);
      await rpc.burst(count, size);
      await done;
    },
    received: () => burst.received,
    async close() {
      rpc.$close();
      socket.destroy();
      await stopServer(server.child);
    },
  };
}
