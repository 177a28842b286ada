/**
 * `npipe://./pipe/name` — Windows named pipes (`\\.\pipe\name`).
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Who creates: the server creates the pipe name and its instances; clients
 *   connect. Only the local machine (`.`) is accepted in the URL: a pipe
 *   server never serves remote clients.
 * - Access: the server's pipe instances are created by the native addon
 *   (windows/pipeListener.ts) with a DACL that admits only the current
 *   user, and refuse remote clients; Node's own listen() would give them
 *   Windows' default descriptor, which lets Everyone read.
 * - Data path: Node's own `net` (libuv's overlapped pipe I/O); each
 *   connection is a byte stream carrying frames back to back, as on a Unix
 *   socket. Named pipes have no half-close: a side that has ended its
 *   writing cannot be written to, so a link closes both directions at once.
 * - A second server on a live name gets ADDRESS_IN_USE (the first
 *   instance is created with FILE_FLAG_FIRST_PIPE_INSTANCE; Wine ignores
 *   that flag). Pipe names vanish with their last handle: nothing is ever
 *   left behind.
 */
import { createConnection, type Socket } from 'node:net';
import { createStreamLink, type Link, type LinkAcceptor } from '@procwire/core';
import { connectWithRetry } from '../links/connectRetry.js';
import { invalidEndpoint, type Endpoint } from '../endpoint.js';
import { EarlyArrivals } from '../links/earlyArrivals.js';
import { listenOwnerOnlyPipe } from '../windows/pipeListener.js';
import type { TransportConnectOptions, ListenOptions, Transport } from '../transport.js';

const NAME = /^\/pipe\/([A-Za-z0-9._-]{1,200})$/;

interface PipeAddress {
  /** The name after `\\.\pipe\`. */
  readonly name: string;
  /** `npipe://./pipe/name`, as clients should use it. */
  readonly url: string;
  /** `\\.\pipe\name`, as Windows names it. */
  readonly path: string;
}

function pipeAddress(endpoint: Endpoint): PipeAddress {
  if (endpoint.host !== '.') {
    throw invalidEndpoint(endpoint.url, `named pipes are served on this machine only: write npipe://./pipe/name (not "${endpoint.host}")`);
  }
  const name = NAME.exec(endpoint.path)?.[1];
  if (!name) throw invalidEndpoint(endpoint.url, 'expected npipe://./pipe/name, a name of letters, digits, ".", "_" or "-"');
  if ([...endpoint.searchParams.keys()].length > 0) throw invalidEndpoint(endpoint.url, 'npipe: URLs take no options');
  return { name, url: `npipe://./pipe/${name}`, path: `\\\\.\\pipe\\${name}` };
}

function linkFor(socket: Socket, address: PipeAddress, options: ListenOptions | TransportConnectOptions): Link {
  return createStreamLink(socket, socket, {
    peer: { transport: 'npipe', address: address.url },
    limits: options.limits,
    nativeDuplex: true,
  });
}

async function listen(endpoint: Endpoint, options: ListenOptions): Promise<LinkAcceptor> {
  const address = pipeAddress(endpoint);
  const connections = new EarlyArrivals<Socket>();
  const pipe = listenOwnerOnlyPipe(address.name, address.url, connections.arrive);
  let closing: Promise<void> | undefined;
  return {
    url: address.url,
    start(onLink) {
      connections.start((socket) => onLink(linkFor(socket, address, options)));
    },
    close() {
      // Stops accepting at once; open connections are core's to close.
      closing ??= (async () => pipe.close())();
      return closing;
    },
  };
}

function connect(endpoint: Endpoint, options: TransportConnectOptions): Promise<Link> {
  const address = pipeAddress(endpoint);
  return connectWithRetry(
    address.url,
    options.waitMs ?? 0,
    () =>
      new Promise<Link>((resolve, reject) => {
        const socket = createConnection(address.path);
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve(linkFor(socket, address, options));
        });
        socket.once('error', reject);
      }),
  );
}

export const npipeTransport: Transport = {
  scheme: 'npipe',
  platforms: ['win32'],
  listen,
  connect,
};
