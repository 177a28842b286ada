/**
 * What unix: and tcp: share: both are stream sockets of node:net, so
 * listening, accepting, connecting and making a link work the same; the
 * transports differ only in addresses and in who may get in.
 */
import { createConnection, type Server as NetServer, type Socket } from 'node:net';
import { createStreamLink, ErrorCode, ProcwireError, type FrameLimits, type Link, type LinkAcceptor, type PeerInfo } from '@procwire/core';
import { connectWithRetry } from '../links/connectRetry.js';
import type { EarlyArrivals } from '../links/earlyArrivals.js';
import { invalidEndpoint, type Endpoint } from '../endpoint.js';

/** Where node:net listens or connects: a path (`\0name` for an abstract one) or a host and port. */
export type NetAddress = string | { host: string; port: number };

/** unix: and tcp: URLs take no `?options`. */
export function rejectQuery(endpoint: Endpoint): void {
  const names = [...endpoint.searchParams.keys()];
  if (names.length > 0) throw invalidEndpoint(endpoint.url, `unknown option ${names.map((n) => `"${n}"`).join(', ')}`);
}

export function socketLink(socket: Socket, peer: PeerInfo, limits: Partial<FrameLimits> | undefined): Link {
  return createStreamLink(socket, socket, { peer, limits, nativeDuplex: true });
}

export function listenOn(server: NetServer, where: NetAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function listenError(error: unknown, url: string): unknown {
  if (error instanceof ProcwireError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${url} is already in use`, { cause: error });
  }
  return new ProcwireError(ErrorCode.LISTEN_FAILED, `cannot listen on ${url}: ${(error as Error).message}`, {
    cause: error,
  });
}

/**
 * The acceptor of a listening server whose admitted sockets arrive through
 * `connections`; `cleanup` runs once at close, after the server stops
 * listening.
 */
export function socketAcceptor(
  url: string,
  server: NetServer,
  connections: EarlyArrivals<Socket>,
  linkOf: (socket: Socket) => Link,
  cleanup: () => void,
): LinkAcceptor {
  let closing: Promise<void> | undefined;
  return {
    url,
    start(onLink) {
      connections.start((socket) => {
        let link: Link;
        try {
          link = linkOf(socket);
        } catch {
          socket.destroy(); // this connection goes, the server stays
          return;
        }
        onLink(link);
      });
    },
    close() {
      closing ??= (async () => {
        server.close();
        cleanup();
      })();
      return closing;
    },
  };
}

/** Connects (retrying while nobody listens, up to `waitMs`) and makes the link of the connected socket. */
export function connectSocket(url: string, where: NetAddress, waitMs: number, linkOf: (socket: Socket) => Link): Promise<Link> {
  return connectWithRetry(
    url,
    waitMs,
    () =>
      new Promise<Link>((resolve, reject) => {
        const socket = createConnection(where as never);
        socket.once('connect', () => {
          socket.off('error', reject);
          try {
            resolve(linkOf(socket));
          } catch (error) {
            // Thrown in a socket callback it would end the process; the socket must not stay open either.
            socket.destroy();
            reject(error);
          }
        });
        socket.once('error', reject);
      }),
  );
}
