import { availableSchemes, connect, removeStaleObjects, spawn, type Channel, type Client, type ConnectOptions } from 'procwire';
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
  connectWith<C extends Channel<any>>(channel: C, options?: ConnectOptions): Promise<Client<C>>;
  stop(): Promise<void>;
}

/** Options of the server process (PROCWIRE_SERVE_OPTIONS, JSON) and of the peer's first client. */
interface StartOptions {
  readonly serve?: Record<string, unknown>;
  readonly client?: ConnectOptions;
}

/** One entry per transport. Later transports join the conformance suite by adding an entry. */
export interface EndpointKind {
  readonly name: string;
  /** Whether processes other than the parent can connect (false for inherited pipes). */
  readonly acceptsOtherClients: boolean;
  /** Whether the platform offers this transport. */
  readonly available: boolean;
  /** A fresh URL to listen at, for transports with a listening side (to serve another fixture there). */
  readonly url?: () => string;
  start(options?: StartOptions): Promise<Peer>;
}

/** Whether the registry offers `scheme` on this platform: each transport states its platforms once, there. */
const offered = (scheme: string) => availableSchemes().includes(scheme);

function listening(name: string, scheme: string, makeUrl: () => string, available = offered(scheme)): EndpointKind {
  return {
    name,
    available,
    acceptsOtherClients: true,
    url: makeUrl,
    async start(options = {}) {
      const server = await startServerProcess(makeUrl(), 'calcServer.ts', serveEnv(options));
      const client = await connect(calc, server.url, options.client);
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
  listening('unix (path)', 'unix', () => `unix://${tempSocketPath()}`),
  // Abstract names are a Linux feature of unix: (the transport refuses them elsewhere).
  listening('unix (abstract)', 'unix', () => `unix:@${uniqueName()}`, offered('unix') && process.platform === 'linux'),
  listening('tcp', 'tcp', () => 'tcp://127.0.0.1:0'),
  // Windows named pipes (\\.\pipe\<name>): the kernel removes the name with its last handle.
  listening('npipe', 'npipe', () => `npipe://./pipe/${uniqueName()}`),
  listening('mailslot', 'mailslot', () => `mailslot://./mailslot/${uniqueName()}`),
  listening('fifo', 'fifo', () => `fifo://${join(tmpdir(), uniqueName())}`),
  listening('mq', 'mq', () => `mq:///${uniqueName()}`),
  listening('shm (spin)', 'shm', () => `shm:///${uniqueName()}?wait=spin`),
  listening('shm (sleep)', 'shm', () => `shm:///${uniqueName()}?wait=sleep`),
  spawned('socketpair', 'socketpair:'),
  spawned('pipe', 'pipe:'),
];

function serveEnv(options: StartOptions): NodeJS.ProcessEnv {
  return options.serve ? { PROCWIRE_SERVE_OPTIONS: JSON.stringify(options.serve) } : {};
}

function spawned(name: string, via: 'socketpair:' | 'pipe:'): EndpointKind {
  return {
    name,
    available: offered(via.slice(0, -1)),
    acceptsOtherClients: false,
    async start(options = {}) {
      const env = serveEnv(options);
      const start = <C extends Channel<any>>(channel: C, clientOptions: ConnectOptions = {}) =>
        spawn(channel, fixturePath('calcServer.ts'), {
          ...clientOptions,
          env,
          via,
          execArgv: [...FIXTURE_EXEC_ARGV],
        });
      const worker = await start(calc, options.client);
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
