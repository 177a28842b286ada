/**
 * `tcp://host:port`.
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Who creates: the server listens on the host and port (`:0`: any free
 *   port, named in the acceptor's URL); clients connect.
 * - Who may connect: anyone who reaches the port. With `secret` a client
 *   must prove it knows the shared secret, with `tls` it must complete TLS
 *   (and present a certificate when the server names a `ca`), before core
 *   reads a byte of the connection; each such handshake is bounded in time
 *   and in number (tcp/acceptGuard.ts), and every refusal reaches `onRefused`.
 * - Peer vanishes: a process that dies is seen at once (its kernel closes
 *   the socket); a host that vanishes without a word is seen only when TCP
 *   gives up, or by core's heartbeat.
 * - Named objects: none (a port is freed with its socket).
 */
import { createServer, type Socket } from 'node:net';
import type { Link, LinkAcceptor, PeerInfo } from '@procwire/core';
import { invalidEndpoint, type Endpoint } from '../endpoint.js';
import { checkFrameLimits } from '../options.js';
import { EarlyArrivals } from '../links/earlyArrivals.js';
import { connectSocket, listenError, listenOn, rejectQuery, socketAcceptor, socketLink } from '../sockets/stream.js';
import type { TransportConnectOptions, ListenOptions, Transport } from '../transport.js';
import { guardTcpAccept } from './acceptGuard.js';
import { connectTcpGuarded, explainSecretOrTlsServer, needsTcpGuard } from './connectGuard.js';

interface Address {
  readonly host: string;
  readonly port: number;
}

function tcpAddress(endpoint: Endpoint): Address {
  rejectQuery(endpoint);
  if (!endpoint.host) throw invalidEndpoint(endpoint.url, 'expected tcp://host:port');
  if (endpoint.port === undefined) throw invalidEndpoint(endpoint.url, 'the port is missing (use :0 for any free port)');
  return { host: endpoint.host, port: endpoint.port };
}

function describe(address: Address): string {
  return `tcp://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

function linkFor(socket: Socket, address: Address, options: ListenOptions | TransportConnectOptions, peerAddress?: string): Link {
  socket.setNoDelay(true);
  const peer: PeerInfo = { transport: 'tcp', address: peerAddress ?? describe(address) };
  return socketLink(socket, peer, options.limits);
}

async function listen(address: Address, options: ListenOptions): Promise<LinkAcceptor> {
  const connections = new EarlyArrivals<Socket>();
  // With a secret or TLS the guard's server hands sockets over only once they passed.
  const guard = await guardTcpAccept(options, connections.arrive);
  const server = guard?.server ?? createServer({ noDelay: true, pauseOnConnect: false });
  if (!guard) server.on('connection', connections.arrive);
  try {
    await listenOn(server, { host: address.host, port: address.port });
  } catch (error) {
    throw listenError(error, describe(address));
  }
  let url = describe(address);
  const bound = server.address();
  if (bound && typeof bound === 'object') url = describe({ ...address, port: bound.port });
  const linkOf = (socket: Socket) => linkFor(socket, address, options, `tcp://${socket.remoteAddress}:${socket.remotePort}`);
  return socketAcceptor(url, server, connections, linkOf, () => guard?.close());
}

function connect(address: Address, options: TransportConnectOptions): Promise<Link> {
  const url = describe(address);
  if (needsTcpGuard(options))
    return connectTcpGuarded(address.host, address.port, url, options, (socket) => linkFor(socket, address, options));
  return connectSocket(url, { host: address.host, port: address.port }, options.waitMs ?? 0, (socket) =>
    explainSecretOrTlsServer(linkFor(socket, address, options), socket, url),
  );
}

// Limits are checked before anything is opened: a link made later in a socket callback must not throw.
export const tcpTransport: Transport = {
  scheme: 'tcp',
  listen: async (endpoint, options) => listen(tcpAddress(endpoint), { ...options, limits: checkFrameLimits(options.limits) }),
  connect: async (endpoint, options) => connect(tcpAddress(endpoint), { ...options, limits: checkFrameLimits(options.limits) }),
};
