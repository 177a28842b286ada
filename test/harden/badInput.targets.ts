import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, removeStaleObjects, type Client } from 'procwire';
import { createClient, type Link } from 'procwire/link';
import { hardenTarget } from '../fixtures/hardenContract.js';
import { startServerProcess, tempSocketPath, uniqueName } from '../helpers/processes.js';
import { removeQueue } from '../helpers/queues.js';
import { openRawLink, spawnHostileParent } from '../helpers/rawLink.js';

type AdminReport = Awaited<ReturnType<Client<typeof hardenTarget>['rpc']['admin']>>;

/** A harden server in its own process, a healthy client of it, and a way in for hostile peers. */
export interface Target {
  readonly name: string;
  /** mq: keeps message boundaries: a bad message is dropped, not the connection. */
  readonly messageOriented: boolean;
  readonly healthy: Client<typeof hardenTarget>;
  /** A fresh raw connection to the server. */
  openHostile(): Promise<Link>;
  /** What the server holds; `collect` runs full collections first (for RSS). */
  admin(collect: boolean): Promise<AdminReport>;
  /** Whether the server process still runs. */
  alive(): boolean;
  stop(): Promise<void>;
}

export interface TargetKind {
  readonly name: string;
  readonly available: boolean;
  readonly messageOriented: boolean;
  /** `hostileConnections`: how many raw connections the test will open (spawned hosts inherit them all up front). */
  start(hostileConnections: number): Promise<Target>;
}

/** The server's memory is measured without the collector's noise: --expose-gc, and a fixed mmap threshold (see shmHostile.test.ts). */
const MEASURED_ENV = { MALLOC_MMAP_THRESHOLD_: String(128 * 1024) };
const CALL_TIMEOUT_MS = 15_000;

/** How long a new mq: connection waits for another process to give back queue memory. */
const QUEUE_ROOM_WAIT_MS = 10_000;

/**
 * Opens an mq: connection, waiting while the user's queue memory
 * (RLIMIT_MSGQUEUE: about nine default queues, for every process of the
 * user together) is taken by other tests running at the same time.
 */
async function withQueueRoom(open: () => Promise<Link>): Promise<Link> {
  const deadline = performance.now() + QUEUE_ROOM_WAIT_MS;
  for (;;) {
    try {
      return await open();
    } catch (error) {
      if (!/RLIMIT_MSGQUEUE/.test((error as Error).message) || performance.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

function listening(name: string, makeUrl: () => string, available: boolean, messageOriented = false): TargetKind {
  return {
    name,
    available,
    messageOriented,
    async start() {
      const server = await startServerProcess(makeUrl(), 'hardenServer.ts', {
        ...MEASURED_ENV,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc`,
      });
      const healthy = await connect(hardenTarget, server.url, { callTimeoutMs: CALL_TIMEOUT_MS });
      return {
        name,
        messageOriented,
        healthy,
        openHostile: () => (messageOriented ? withQueueRoom(() => openRawLink(server.url)) : openRawLink(server.url)),
        admin: (collect) => healthy.rpc.admin({ collect }),
        alive: () => server.child.exitCode === null && server.child.signalCode === null,
        async stop() {
          await healthy.close().catch(() => {});
          await server.kill('SIGTERM');
          const path = server.url.match(/^(?:unix|fifo):\/\/(\/.*)$/)?.[1];
          if (path) rmSync(path, { force: true });
          const queue = server.url.match(/^mq:\/\/(\/.*)$/)?.[1];
          if (queue) removeQueue(queue);
          if (server.url.startsWith('shm:')) await removeStaleObjects(server.url);
        },
      };
    },
  };
}

function spawned(name: string, via: 'socketpair:' | 'pipe:'): TargetKind {
  return {
    name,
    available: process.platform !== 'win32',
    messageOriented: false,
    async start(hostileConnections) {
      const parent = spawnHostileParent(via, hostileConnections, { env: MEASURED_ENV, execArgv: ['--expose-gc'] });
      const healthy = await createClient(hardenTarget, parent.healthyLink, { callTimeoutMs: CALL_TIMEOUT_MS });
      let next = 0;
      return {
        name,
        messageOriented: false,
        healthy,
        async openHostile() {
          const index = next++;
          if (index >= parent.slots) throw new Error(`${name}: all ${parent.slots} inherited connections are used`);
          await healthy.rpc.openSlot({ index });
          return parent.slotLink(index);
        },
        admin: (collect) => healthy.rpc.admin({ collect }),
        alive: () => parent.child.exitCode === null && parent.child.signalCode === null,
        async stop() {
          await healthy.close().catch(() => {});
          await parent.kill();
        },
      };
    },
  };
}

/** Every transport of test/conformance/endpoints.ts that Linux offers. */
export const targetKinds: TargetKind[] = [
  listening('unix (path)', () => `unix://${tempSocketPath()}`, process.platform !== 'win32'),
  listening('unix (abstract)', () => `unix:@${uniqueName()}`, process.platform === 'linux'),
  listening('tcp', () => 'tcp://127.0.0.1:0', true),
  listening('fifo', () => `fifo://${join(tmpdir(), uniqueName())}`, process.platform !== 'win32'),
  listening('mq', () => `mq:///${uniqueName()}`, process.platform === 'linux', true),
  listening('shm (spin)', () => `shm:///${uniqueName()}?wait=spin`, process.platform === 'linux'),
  listening('shm (sleep)', () => `shm:///${uniqueName()}?wait=sleep`, process.platform === 'linux'),
  spawned('socketpair', 'socketpair:'),
  spawned('pipe', 'pipe:'),
];
