import { connect, spawn, type Channel, type Client } from 'procwire';
import type { ChildProcess } from 'node:child_process';
import { calc } from '../fixtures/calc.js';
import { FIXTURES, startServerProcess, tempSocketPath, uniqueName } from '../helpers/processes.js';
import { join } from 'node:path';

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
  connectWith<C extends Channel<any>>(channel: C): Promise<Client<C>>;
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
        connectWith: (channel) => connect(channel, server.url),
        async stop() {
          await client.close().catch(() => {});
          await server.kill('SIGTERM');
        },
      };
    },
  };
}

export const endpointKinds: EndpointKind[] = [
  listening('unix (path)', () => `unix://${tempSocketPath()}`),
  listening('unix (abstract)', () => `unix:@${uniqueName()}`, process.platform === 'linux'),
  listening('tcp', () => 'tcp://127.0.0.1:0'),
  {
    name: 'socketpair',
    available: process.platform !== 'win32',
    acceptsOtherClients: false,
    async start() {
      const worker = await spawn(calc, join(FIXTURES, 'calcServer.ts'), { execArgv: ['--import', 'tsx'] });
      return {
        client: worker,
        server: worker.process,
        url: 'socketpair:',
        connectWith: (channel) => spawn(channel, join(FIXTURES, 'calcServer.ts'), { execArgv: ['--import', 'tsx'] }),
        async stop() {
          await worker.close().catch(() => {});
        },
      };
    },
  },
];
