/**
 * `unix:///path` and `unix:@name` (Linux abstract namespace).
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Who creates: the server creates the endpoint; clients connect. A socket
 *   file appears at its path already with mode 0600, or 0660 with
 *   `access: 'group'` (bound in a private 0700 directory, then hard-linked
 *   into place, so there is no moment when it is more open and a live
 *   server's file is never replaced). A file left by a killed server
 *   (connect refused) is removed and the path reused, unless it belongs to
 *   another user (refused, naming the owner); a path where a server answers
 *   gives ADDRESS_IN_USE.
 * - Who may connect: on a socket file, its mode decides. An abstract name
 *   (unix:@name) has no mode, so every connection is checked at accept with
 *   the kernel's SO_PEERCRED before any byte of it is read: the server's
 *   uid and root get in (as a 0600 file would let them), with
 *   `access: 'group'` also peers whose effective gid is the server's
 *   effective gid (supplementary groups are not seen). Anyone else is
 *   closed at once and reported to `onRefused` (ACCESS_DENIED).
 * - Peer credentials (Linux): every unix: link carries the pid, uid and gid
 *   of the process at the other end as the kernel recorded them at connect
 *   (SO_PEERCRED), never what the peer says.
 * - Cleanup: closing the server removes its socket file (only if it is still
 *   the one this server created).
 */
import { unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import { ErrorCode, ProcwireError, type Link, type LinkAcceptor, type PeerInfo } from '@procwire/core';
import { native, type PeerCredentials } from '@procwire/native';
import { invalidEndpoint, MAX_UNIX_PATH_BYTES, type Endpoint } from '../endpoint.js';
import { checkFrameLimits, rejectTcpOnlyOptions } from '../options.js';
import { EarlyArrivals } from '../links/earlyArrivals.js';
import { checkAccess, describeOwner, objectMode, removeOnExit, unlinkIfOurs } from '../names/ownedNames.js';
import { isType, socketAnswers } from '../names/probes.js';
import { peerCredentialsOf } from '../sockets/peerCredentials.js';
import { listenOnFile, socketPathProblem } from '../sockets/socketFile.js';
import { connectSocket, listenError, listenOn, rejectQuery, socketAcceptor, socketLink, type NetAddress } from '../sockets/stream.js';
import type { AccessMode, TransportConnectOptions, ListenOptions, Transport } from '../transport.js';

type Address = { kind: 'file'; path: string } | { kind: 'abstract'; name: string };

function unixAddress(endpoint: Endpoint, use: 'listen' | 'connect'): Address {
  rejectQuery(endpoint);
  if (endpoint.host) {
    throw invalidEndpoint(
      endpoint.url,
      `unix: URLs have no host ("${endpoint.host}" would be dropped); write the absolute path after three slashes, as in unix:///tmp/calc.sock`,
    );
  }
  const path = endpoint.path;
  if (path.startsWith('@')) {
    if (process.platform !== 'linux') throw invalidEndpoint(endpoint.url, 'abstract socket names (unix:@name) exist only on Linux');
    if (path.length < 2) throw invalidEndpoint(endpoint.url, 'the abstract name is empty');
    if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES)
      throw invalidEndpoint(endpoint.url, `the name is longer than ${MAX_UNIX_PATH_BYTES} bytes`);
    return { kind: 'abstract', name: path.slice(1) };
  }
  if (!isAbsolute(path)) throw invalidEndpoint(endpoint.url, 'expected an absolute path, as in unix:///run/app/calc.sock');
  const problem = socketPathProblem(path, use);
  if (problem) throw invalidEndpoint(endpoint.url, problem);
  return { kind: 'file', path };
}

function netPath(address: Address): NetAddress {
  return address.kind === 'file' ? address.path : `\0${address.name}`;
}

function describe(address: Address): string {
  return address.kind === 'file' ? `unix://${address.path}` : `unix:@${address.name}`;
}

function linkFor(
  socket: Socket,
  address: Address,
  options: ListenOptions | TransportConnectOptions,
  credentials: PeerCredentials | undefined,
): Link {
  const peer: PeerInfo = { transport: 'unix', address: describe(address), ...credentials };
  return socketLink(socket, peer, options.limits);
}

/**
 * Whether a peer may use an abstract socket served with `access`: what the
 * modes 0600 and 0660 would let through on a socket file (the owner, root,
 * and with 'group' the server's group as the peer's effective gid).
 */
function abstractAdmits(credentials: PeerCredentials | undefined, access: AccessMode): boolean {
  if (credentials === undefined) return false; // cannot tell: fail closed
  if (credentials.uid === process.getuid?.() || credentials.uid === 0) return true;
  return access === 'group' && credentials.gid === process.getegid?.();
}

/** An abstract name is open to every local user unless peers can be checked: refuse to serve one blind. */
function requirePeerChecks(address: Address): void {
  try {
    void native.socketPeerCredentials;
  } catch (error) {
    throw new ProcwireError(
      ErrorCode.LISTEN_FAILED,
      `cannot listen on ${describe(address)}: an abstract socket admits only the peers SO_PEERCRED vouches for, and that needs the native addon (${(error as Error).message})`,
      { cause: error },
    );
  }
}

function abstractRefusal(address: Address, access: AccessMode, credentials: PeerCredentials | undefined): ProcwireError {
  const uid = process.getuid?.() ?? 0;
  const who = credentials
    ? `pid ${credentials.pid}, ${describeOwner(credentials.uid)}, gid ${credentials.gid}`
    : 'a peer the kernel could not name';
  const users = uid === 0 ? describeOwner(0) : `${describeOwner(uid)} and root`;
  const admitted = access === 'group' ? `${users}, and peers of gid ${process.getegid?.()}` : users;
  return new ProcwireError(
    ErrorCode.ACCESS_DENIED,
    `${describe(address)} refused ${who}: an abstract socket has no file mode, so it admits only ${admitted} (access '${access}')`,
  );
}

async function listen(address: Address, options: ListenOptions): Promise<LinkAcceptor> {
  const access = checkAccess(options.access);
  if (address.kind === 'abstract') requirePeerChecks(address);
  rejectTcpOnlyOptions('unix', options);
  const connections = new EarlyArrivals<Socket>();
  const server = createServer({ noDelay: false, pauseOnConnect: false });
  server.on('connection', (socket: Socket) => {
    if (address.kind === 'abstract') {
      const credentials = peerCredentialsOf(socket);
      if (!abstractAdmits(credentials, access)) {
        // Closed before a byte of it is read.
        socket.destroy();
        options.onRefused?.(abstractRefusal(address, access, credentials), {
          transport: 'unix',
          address: describe(address),
          ...credentials,
        });
        return;
      }
    }
    connections.arrive(socket);
  });
  let ownFile: { path: string; ino: number } | undefined;
  try {
    if (address.kind === 'file') {
      ownFile = { path: address.path, ...(await listenOnFile(server, address.path, objectMode(access))) };
    } else {
      await listenOn(server, netPath(address));
    }
  } catch (error) {
    throw listenError(error, describe(address));
  }
  const file = ownFile;
  const removeFile = file ? removeOnExit(() => unlinkIfOurs(file.path, file.ino)) : () => {};
  return socketAcceptor(
    describe(address),
    server,
    connections,
    (socket) => linkFor(socket, address, options, peerCredentialsOf(socket)),
    removeFile,
  );
}

function connect(address: Address, options: TransportConnectOptions): Promise<Link> {
  rejectTcpOnlyOptions('unix', options);
  // A client's link names the server process the same way.
  return connectSocket(describe(address), netPath(address), options.waitMs ?? 0, (socket) =>
    linkFor(socket, address, options, peerCredentialsOf(socket)),
  );
}

// Limits are checked before anything is opened: a link made later in a socket callback must not throw.
export const unixTransport: Transport = {
  scheme: 'unix',
  platforms: ['linux', 'darwin', 'freebsd', 'openbsd', 'sunos', 'aix'],
  peerCredentials: process.platform === 'linux',
  namedObjects: {
    // The socket file; abstract names vanish with their owner.
    async list(endpoint) {
      const path = endpoint.path;
      if (path.startsWith('@') || !isType(path, (s) => s.isSocket())) return [];
      return [{ kind: 'socket', name: path, state: (await socketAnswers(path)) ? 'live' : 'stale' }];
    },
    remove: (object) => unlinkSync(object.name),
  },
  listen: async (endpoint, options) => listen(unixAddress(endpoint, 'listen'), { ...options, limits: checkFrameLimits(options.limits) }),
  connect: async (endpoint, options) => connect(unixAddress(endpoint, 'connect'), { ...options, limits: checkFrameLimits(options.limits) }),
};
