import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { native } from '@procwire/native';
import { createStreamLink, resolveEndpoint, type Link } from 'procwire/link';
import { FIXTURE_EXEC_ARGV, fixturePath } from './processes.js';

/**
 * A hostile peer's side of a connection: the transport's own client link,
 * with no procwire client on top. `send(bytes)` puts the bytes on the wire
 * as they are (a byte stream writes them raw; mq:, shm: and fifo: carry
 * them as one frame's payload), and `start()` delivers what the server
 * answers, delimited but not judged.
 */
export async function openRawLink(url: string): Promise<Link> {
  const { endpoint, transport } = resolveEndpoint(url);
  return transport.connect(endpoint, {});
}

/**
 * A worker whose parent is the hostile peer: for `socketpair:` and `pipe:`
 * the server is a child process, so the test plays its parent and keeps the
 * raw ends of many inherited connections (see fixtures/hardenWorkerHost.ts).
 */
export interface HostileParent {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The healthy connection (slot 0), for a normal procwire client. */
  readonly healthyLink: Link;
  /** How many hostile slots the worker inherited. */
  readonly slots: number;
  /** The raw link of hostile slot `index` (each may be taken once). */
  slotLink(index: number): Link;
  kill(): Promise<void>;
}

type Via = 'socketpair:' | 'pipe:';

/** The parent's end of one inherited connection, before it is wrapped. */
interface ParentEnd {
  link(pid: number): Link;
  discard(): void;
}

export function spawnHostileParent(
  via: Via,
  slots: number,
  options: { fixture?: string; env?: NodeJS.ProcessEnv; execArgv?: readonly string[] } = {},
): HostileParent {
  const wiring = via === 'socketpair:' ? socketPairEnds(slots + 1) : pipeEnds(slots + 1);
  const child = spawn(
    process.execPath,
    [...(options.execArgv ?? []), ...FIXTURE_EXEC_ARGV, fixturePath(options.fixture ?? 'hardenWorkerHost.ts')],
    { stdio: ['ignore', 'inherit', 'inherit', ...wiring.stdio], env: { ...process.env, HARDEN_VIA: via, ...options.env } },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ends = wiring.afterSpawn(child);
  const taken = new Set<number>();
  const take = (slot: number) => {
    if (taken.has(slot) || slot < 0 || slot >= ends.length) throw new Error(`slot ${slot} is taken or does not exist`);
    taken.add(slot);
    return ends[slot]!.link(child.pid!);
  };
  return {
    child,
    exited,
    healthyLink: take(0),
    slots,
    slotLink: (index) => take(index + 1),
    async kill() {
      ends.forEach((end, slot) => {
        if (!taken.has(slot)) end.discard();
      });
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Node's stdio 'pipe' is an AF_UNIX socketpair: exactly what spawn(…, { via: 'socketpair:' }) hands a worker. */
function socketPairEnds(count: number) {
  return {
    stdio: Array<'pipe'>(count).fill('pipe'),
    afterSpawn(child: ChildProcess): ParentEnd[] {
      return Array.from({ length: count }, (_, i) => {
        const socket = child.stdio[3 + i] as Socket;
        return {
          link: (pid: number) => createStreamLink(socket, socket, { peer: { transport: 'socketpair', pid }, nativeDuplex: true }),
          discard: () => socket.destroy(),
        };
      });
    },
  };
}

/** Two pipe(2)s per connection, one per direction, as spawn(…, { via: 'pipe:' }) makes them. */
function pipeEnds(count: number) {
  const pairs = Array.from({ length: count }, () => ({ toWorker: native.pipe(), fromWorker: native.pipe() }));
  return {
    // The worker's read end, then its write end: fds 3 + 2i and 4 + 2i.
    stdio: pairs.flatMap(({ toWorker, fromWorker }) => [toWorker[0], fromWorker[1]]),
    afterSpawn(): ParentEnd[] {
      // The worker has its copies; ours must go, or we would never read end-of-file.
      for (const { toWorker, fromWorker } of pairs) {
        native.close(toWorker[0]);
        native.close(fromWorker[1]);
      }
      return pairs.map(({ toWorker, fromWorker }) => ({
        link: (pid: number) =>
          createStreamLink(
            new Socket({ fd: fromWorker[0], readable: true, writable: false }),
            new Socket({ fd: toWorker[1], readable: false, writable: true }),
            { peer: { transport: 'pipe', pid }, nativeDuplex: false },
          ),
        discard: () => {
          native.close(fromWorker[0]);
          native.close(toWorker[1]);
        },
      }));
    },
  };
}
