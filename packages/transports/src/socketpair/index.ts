/**
 * `socketpair:` — a full-duplex stream pipe between a parent and the worker
 * it started with `spawn(channel, module, { via: 'socketpair:' })`.
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Who creates: the parent, when it spawns the worker; the worker inherits
 *   one end as a file descriptor named in PROCWIRE_SOCKETPAIR_FD and serves
 *   on it with `serve(channel, 'socketpair:', handlers)`. There is exactly one
 *   connection; the worker's server closes when it ends.
 * - Peer vanishes: the kernel closes the pair when either process dies. The
 *   parent's pending calls reject with PEER_GONE naming the worker's exit
 *   code or signal; a worker whose parent closed (or died) sees its server
 *   close and exits once nothing else keeps it alive.
 * - Named objects: none.
 * - Platforms: Unix only (Node's stdio 'pipe' is a socketpair there; on
 *   Windows it is a named pipe, which no inherited descriptor can name).
 */
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import { createStreamLink, ErrorCode, ProcwireError, type LinkAcceptor } from '@procwire/core';
import type { Endpoint } from '../endpoint.js';
import type { ListenOptions, Transport } from '../transport.js';
import { inheritedLinkAcceptor } from '../inherited/acceptor.js';
import { FIRST_WORKER_FD, type WorkerWiring } from '../inherited/workerWiring.js';

/** Environment variable through which spawn() tells the worker its descriptor. */
export const SOCKETPAIR_FD_ENV = 'PROCWIRE_SOCKETPAIR_FD';

function inheritedSocket(endpoint: Endpoint): Socket {
  const raw = process.env[SOCKETPAIR_FD_ENV];
  const fd = Number(raw);
  if (raw === undefined || !Number.isInteger(fd) || fd < 3) {
    throw new ProcwireError(
      ErrorCode.INVALID_ENDPOINT,
      `${endpoint.url} works only in a worker: this process was not started by procwire's spawn() with via: 'socketpair:' (${SOCKETPAIR_FD_ENV} is not set)`,
    );
  }
  let isSocket = false;
  try {
    isSocket = fstatSync(fd).isSocket();
  } catch {
    // fall through to the error below
  }
  if (!isSocket) {
    throw new ProcwireError(
      ErrorCode.INVALID_ENDPOINT,
      `${endpoint.url} needs an inherited socket: descriptor ${fd} is not an inherited socket`,
    );
  }
  // One server per inherited descriptor; a grandchild must not reuse it.
  delete process.env[SOCKETPAIR_FD_ENV];
  return new Socket({ fd, readable: true, writable: true });
}

async function listen(endpoint: Endpoint, options: ListenOptions): Promise<LinkAcceptor> {
  const socket = inheritedSocket(endpoint);
  return inheritedLinkAcceptor(
    'socketpair:',
    () =>
      createStreamLink(socket, socket, {
        peer: { transport: 'socketpair', pid: process.ppid },
        limits: options.limits,
        nativeDuplex: true,
      }),
    () => socket.destroy(),
  );
}

/** The parent's side: Node's stdio 'pipe' is itself a socketpair. */
function socketPairWiring(): WorkerWiring {
  return {
    stdio: ['pipe'],
    env: { [SOCKETPAIR_FD_ENV]: String(FIRST_WORKER_FD) },
    parentLink(child, limits) {
      const socket = child.stdio[FIRST_WORKER_FD] as Socket;
      return createStreamLink(socket, socket, { peer: { transport: 'socketpair', pid: child.pid }, limits, nativeDuplex: true });
    },
    afterSpawn() {},
    abandon() {},
  };
}

export const socketPairTransport: Transport = {
  scheme: 'socketpair',
  platforms: ['linux', 'darwin', 'freebsd', 'openbsd', 'sunos', 'aix'],
  inherited: { wiring: socketPairWiring },
  listen,
  connect: async (endpoint) => {
    throw new ProcwireError(
      ErrorCode.INVALID_ENDPOINT,
      `${endpoint.url} cannot be connected to: the parent side of a socketpair is made by spawn(channel, module, { via: 'socketpair:' }), not by connect()`,
    );
  },
};
