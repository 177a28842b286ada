/**
 * procwire as a user would use it: the contract in lib/channel.ts with zod
 * validation on at both ends, `connect()` for unix:, tcp:, fifo: and mq:,
 * `spawn()` for socketpair: and pipe:. Round trip = `client.rpc.echo()`; one-way = the server's
 * `emit('tick', …)`, counted by a `client.on('tick')` listener after the
 * client has validated each payload.
 */
import { join } from 'node:path';
import { connect, spawn, type Client } from 'procwire';
import { benchChannel } from '../lib/channel.js';
import { expectExit, serverModule, startServer, stopServer, track } from '../lib/children.js';
import type { SessionSpec } from '../lib/session.js';
import { BurstCounter, type BenchClient } from './common.js';

type Transport = 'unix' | 'tcp' | 'socketpair' | 'pipe' | 'fifo' | 'mq';

export async function openProcwire(spec: SessionSpec, transport: Transport): Promise<BenchClient> {
  let client: Client<typeof benchChannel>;
  let serverPid: number | undefined;
  let stop: () => Promise<void>;
  if (transport === 'socketpair' || transport === 'pipe') {
    const via = `${transport}:` as const;
    const worker = await spawn(benchChannel, serverModule('procwireServer.ts'), {
      via,
      args: [via],
      validate: true,
      exitTimeoutMs: 1000,
    });
    track(worker.process);
    client = worker;
    serverPid = worker.process.pid;
    stop = () => {
      expectExit(worker.process);
      return worker.close();
    };
  } else {
    const url = {
      unix: `unix://${join(spec.socketDir, `procwire-${process.pid}.sock`)}`,
      tcp: 'tcp://127.0.0.1:0',
      fifo: `fifo://${join(spec.socketDir, `procwire-${process.pid}.fifo`)}`,
      mq: `mq:///procwire-bench-${process.pid}`,
    }[transport];
    const server = await startServer('procwireServer.ts', [url]);
    client = await connect(benchChannel, server.info, { validate: true });
    serverPid = server.child.pid;
    stop = async () => {
      await client.close();
      await stopServer(server.child);
    };
  }
  const burst = new BurstCounter();
  client.on('tick', () => burst.tick());
  return {
    serverPid,
    roundTrip: (payload) => client.rpc.echo(payload),
    async receiveBurst(count, size) {
      const done = burst.start(count);
      await client.rpc.burst({ count, size });
      await done;
    },
    received: () => burst.received,
    close: stop,
  };
}
