/**
 * `pipe:` — two anonymous pipes (pipe(2)), one per direction, between a
 * parent and the worker it started with `spawn(channel, module, { via: 'pipe:' })`.
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Who creates: the parent makes both pipes before spawning; the worker
 *   inherits its read end and its write end as the descriptors named in
 *   PROCWIRE_PIPE_FDS ("read,write") and serves on them with
 *   `serve(channel, 'pipe:', handlers)`. There is exactly one connection; the
 *   worker's server closes when it ends.
 * - Peer vanishes: the survivor reads end-of-file (or gets EPIPE writing). A
 *   worker whose parent dies also gets SIGTERM from the kernel where Linux
 *   offers it (PR_SET_PDEATHSIG).
 * - Named objects: none.
 */
import { Socket } from 'node:net';
import { createStreamLink, ErrorCode, ProcwireError, type Link, type LinkAcceptor } from '@procwire/core';
import { native } from '@procwire/native';
import type { Endpoint } from '../endpoint.js';
import { inheritedLinkAcceptor } from '../inherited/acceptor.js';
import type { ListenOptions, Transport } from '../transport.js';
import { FIRST_WORKER_FD, type WorkerWiring } from '../inherited/workerWiring.js';

/** Environment variable through which spawn() tells the worker its two descriptors. */
export const PIPE_FDS_ENV = 'PROCWIRE_PIPE_FDS';

/** A link over a read descriptor and a write descriptor, each one pipe end. */
function pipeLink(readFd: number, writeFd: number, peer: Link['peer'], limits: ListenOptions['limits']): Link {
  const input = new Socket({ fd: readFd, readable: true, writable: false });
  const output = new Socket({ fd: writeFd, readable: false, writable: true });
  return createStreamLink(input, output, { peer, limits, nativeDuplex: false });
}

/** The parent's side: makes the two pipes and keeps the ends it uses. */
function pipeWiring(): WorkerWiring {
  const [toWorkerRead, toWorkerWrite] = native.pipe();
  let fromWorker: [number, number];
  try {
    fromWorker = native.pipe();
  } catch (error) {
    native.close(toWorkerRead);
    native.close(toWorkerWrite);
    throw error;
  }
  const [fromWorkerRead, fromWorkerWrite] = fromWorker;
  const closeAll = (fds: number[]) => {
    for (const fd of fds) {
      try {
        native.close(fd);
      } catch {
        // already closed
      }
    }
  };
  return {
    // The worker gets its read end as fd 3 and its write end as fd 4.
    stdio: [toWorkerRead, fromWorkerWrite],
    env: { [PIPE_FDS_ENV]: `${FIRST_WORKER_FD},${FIRST_WORKER_FD + 1}` },
    parentLink(child, limits) {
      return pipeLink(fromWorkerRead, toWorkerWrite, { transport: 'pipe', pid: child.pid }, limits);
    },
    // The worker has its own copies now; the parent's copies of the worker's
    // ends must go, or the parent would never see end-of-file when it dies.
    afterSpawn: () => closeAll([toWorkerRead, fromWorkerWrite]),
    abandon: () => closeAll([toWorkerRead, toWorkerWrite, fromWorkerRead, fromWorkerWrite]),
  };
}

function inheritedFds(endpoint: Endpoint): [number, number] {
  const raw = process.env[PIPE_FDS_ENV];
  const fds = (raw ?? '').split(',').map(Number);
  if (raw === undefined || fds.length !== 2 || !fds.every((fd) => Number.isInteger(fd) && fd >= 3)) {
    throw new ProcwireError(
      ErrorCode.INVALID_ENDPOINT,
      `${endpoint.url} works only in a worker: this process was not started by procwire's spawn() with via: 'pipe:' (${PIPE_FDS_ENV} is not set)`,
    );
  }
  for (const fd of fds) {
    let isFifo = false;
    try {
      isFifo = native.fstat(fd).isFifo;
    } catch {
      // reported below
    }
    if (!isFifo)
      throw new ProcwireError(ErrorCode.INVALID_ENDPOINT, `${endpoint.url} needs inherited pipes: descriptor ${fd} is not a pipe`);
  }
  delete process.env[PIPE_FDS_ENV];
  return [fds[0]!, fds[1]!];
}

async function listen(endpoint: Endpoint, options: ListenOptions): Promise<LinkAcceptor> {
  const [readFd, writeFd] = inheritedFds(endpoint);
  return inheritedLinkAcceptor(
    'pipe:',
    () => pipeLink(readFd, writeFd, { transport: 'pipe', pid: process.ppid }, options.limits),
    () => {
      native.close(readFd);
      native.close(writeFd);
    },
  );
}

export const pipeTransport: Transport = {
  scheme: 'pipe',
  platforms: ['linux', 'darwin', 'freebsd', 'openbsd', 'sunos', 'aix'],
  inherited: { wiring: pipeWiring },
  listen,
  connect: async (endpoint) => {
    throw new ProcwireError(
      ErrorCode.INVALID_ENDPOINT,
      `${endpoint.url} cannot be connected to: the parent side of pipe: is made by spawn(channel, module, { via: 'pipe:' }), not by connect()`,
    );
  },
};
