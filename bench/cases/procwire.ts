/**
 * procwire as a user would use it: the contract in lib/channel.ts with zod
 * validation on at both ends (off for the `/novalidate` cases), `connect()`
 * for unix:, tcp:, fifo:, mq: and shm:, `spawn()` for socketpair: and pipe:.
 * Round trip = `client.rpc.echo()`; one-way = the server's `emit('tick', …)`
 * counted by a `client.on()` listener after the client has validated each
 * payload; binary payloads (the GB/s test) come as a stream (`blobs`).
 */
import { join } from 'node:path';
import { connect, spawn, type Client } from 'procwire';
import { benchChannel } from '../lib/channel.js';
import { expectExit, serverModule, startServer, stopServer, track } from '../lib/children.js';
import type { SessionSpec } from '../lib/session.js';
import { BurstCounter, type BenchClient } from './common.js';

type Transport = 'unix' | 'tcp' | 'socketpair' | 'pipe' | 'fifo' | 'mq' | 'shm' | 'shm-sleep';

export interface ProcwireOptions {
  /** zod validation on client and server (procwire's default: true). */
  readonly validate: boolean;
}

/** The URL a connect()-style transport listens on; names carry the pid so parallel sessions never collide. */
function endpoint(spec: SessionSpec, transport: Exclude<Transport, 'socketpair' | 'pipe'>): string {
  const name = `procwire-bench-${process.pid}`;
  switch (transport) {
    case 'unix':
      return `unix://${join(spec.socketDir, `${name}.sock`)}`;
    case 'tcp':
      return 'tcp://127.0.0.1:0';
    case 'fifo':
      return `fifo://${join(spec.socketDir, `${name}.fifo`)}`;
    case 'mq':
      return `mq:///${name}`;
    // Both ends read the wait policy from the URL: spin polls the ring for up to 50 µs before sleeping.
    case 'shm':
      return `shm:///${name}?wait=spin&spinMicros=50&ringBytes=4194304`;
    case 'shm-sleep':
      return `shm:///${name}?wait=sleep`;
  }
}

export async function openProcwire(
  spec: SessionSpec,
  transport: Transport,
  options: ProcwireOptions = { validate: true },
): Promise<BenchClient> {
  const { validate } = options;
  const serverArgs = validate ? [] : ['novalidate'];
  let client: Client<typeof benchChannel>;
  let serverPid: number | undefined;
  let stop: () => Promise<void>;
  if (transport === 'socketpair' || transport === 'pipe') {
    const via = `${transport}:` as const;
    const worker = await spawn(benchChannel, serverModule('procwireServer.ts'), {
      via,
      args: [via, ...serverArgs],
      validate,
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
    const url = endpoint(spec, transport);
    const server = await startServer('procwireServer.ts', [url, ...serverArgs]);
    // tcp: learns its port from the server; the others connect to the URL as written, query options included.
    client = await connect(benchChannel, transport === 'tcp' ? server.info : url, { validate });
    serverPid = server.child.pid;
    stop = async () => {
      await client.close();
      await stopServer(server.child);
    };
  }
  // One counter serves both bursts: the client never runs two at once.
  const burst = new BurstCounter();
  client.on('tick', () => burst.tick());
  client.on('blob', () => burst.tick());
  return {
    serverPid,
    roundTrip: (payload) => client.rpc.echo(payload),
    async receiveBurst(count, size) {
      const done = burst.start(count);
      await client.rpc.burst({ count, size });
      await done;
    },
    async receiveBytes(count, size) {
      // Counted as they are validated and handed over, like the events of the other test.
      const done = burst.start(count);
      for await (const _blob of client.stream.blobs({ count, size })) burst.tick();
      await done;
    },
    received: () => burst.received,
    close: stop,
  };
}
