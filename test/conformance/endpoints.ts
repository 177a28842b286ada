import { connect, removeStaleObjects, spawn, type Channel, type Client } from 'procwire';
import { type ClientOptions } from 'procwire/link';
import type { ChildProcess } from 'node:child_process';
import { calc } from '../fixtures/calc.js';
import { FIXTURE_EXEC_ARGV, fixturePath, startServerProcess, tempSocketPath, uniqueName } from '../helpers/processes.js';
import { rmSync } from 'node:fs';
import { removeQueue } from '../helpers/queues.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

/** A calc server in another process and a client connected to it. */
export interface Peer {
  readonly client: Client<typeof calc>;
  /** The server's process. */
  readonly server: ChildProcess;
  readonly url: string;
  /**
   * A client of another contract to a calc server: a second connection to the
   * same server where the transport accepts them, a freshly spawned worker
   * otherwise.
   */
  connectWith<C extends Channel<any>>(channel: C, options?: ClientOptions): Promise<Client<C>>;
  stop(): Promise<void>;
}

/** One entry per transport. Later transports join the conformance suite by adding an entry. */
export interface EndpointKind {
  readonly name: string;
  /** Whether processes other than the parent can connect (false for inherited pipes). */
  readonly acceptsOtherClients: boolean;
  /** Whether the platform offers this transport. */
  readonly available: boolean;
  start(): Promise<Peer>;
}

function listening(name: string, makeUrl: () => string, available = true): EndpointKind {
  return {
    name,
    available,
    acceptsOtherClients: true,
    async start() {
      const server = await startServerProcess(makeUrl());
      const client = await connect(calc, server.url);
      return {
        client,
        server: server.child,
        url: server.url,
        connectWith: (channel, options) => connect(channel, server.url, options),
        async stop() {
          await client.close().catch(() => {});
          await server.kill('SIGTERM');
          // A server SIGKILLed by a test cannot remove its own names.
          const path = server.url.match(/^(?:unix|fifo):\/\/(\/.*)$/)?.[1];
          if (path) rmSync(path, { force: true });
          const queue = server.url.match(/^mq:\/\/(\/.*)$/)?.[1];
          if (queue) removeQueue(queue);
          if (server.url.startsWith('shm:') && process.platform !== 'win32') await removeStaleObjects(server.url);
        },
      };
    },
  };
}

export const endpointKinds: EndpointKind[] = [
  listening('unix (path)', () => `unix://${tempSocketPath()}`, process.platform !== 'win32'),
  listening('unix (abstract)', () => `unix:@${uniqueName()}`, process.platform === 'linux'),
  listening('tcp', () => 'tcp://127.0.0.1:0'),
  // Windows named pipes (\\.\pipe\<name>): the kernel removes the name with its last handle.
  listening('npipe', () => `npipe://./pipe/${uniqueName()}`, process.platform === 'win32'),
  listening('mailslot', () => `mailslot://./mailslot/${uniqueName()}`, process.platform === 'win32'),
  listening('fifo', () => `fifo://${join(tmpdir(), uniqueName())}`, process.platform !== 'win32'),
  listening('mq', () => `mq:///${uniqueName()}`, process.platform === 'linux'),
  listening('shm (spin)', () => `shm:///${uniqueName()}?wait=spin`, process.platform === 'linux' || process.platform === 'win32'),
  listening('shm (sleep)', () => `shm:///${uniqueName()}?wait=sleep`, process.platform === 'linux' || process.platform === 'win32'),
  spawned('socketpair', 'socketpair:'),
  spawned('pipe', 'pipe:'),
];

function spawned(name: string, via: 'socketpair:' | 'pipe:'): EndpointKind {
  const start = <C extends Channel<any>>(channel: C, options: ClientOptions = {}) =>
    spawn(channel, fixturePath('calcServer.ts'), { ...options, via, execArgv: [...FIXTURE_EXEC_ARGV] });
  return {
    name,
    available: process.platform !== 'win32',
    acceptsOtherClients: false,
    async start() {
      const worker = await start(calc);
      return {
        client: worker,
        server: worker.process,
        url: via,
        connectWith: start,
        async stop() {
          await worker.close().catch(() => {});
        },
      };
    },
  };
}
