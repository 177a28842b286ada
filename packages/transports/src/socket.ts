/**
 * `unix:///path`, `unix:@name` (Linux abstract namespace) and `tcp://host:port`.
 *
 * Contract
 * - Ordering: frames arrive in the order they were sent, per connection.
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
 * - Peer vanishes: the kernel closes the socket; the other side's link closes
 *   at once, so pending calls reject with PEER_GONE.
 * - Cleanup: closing the server removes its socket file (only if it is still
 *   the one this server created).
 */
import { mkdtemp, rmdir, chmod, link as hardLink, lstat, stat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server as NetServer, type Socket } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { createStreamLink, ErrorCode, ProcwireError, type Link, type LinkAcceptor, type PeerInfo } from '@procwire/core';
import { native, type PeerCredentials } from '@procwire/native';
import { invalidEndpoint, MAX_UNIX_PATH_BYTES, type Endpoint } from './internal/endpoint.js';
import { connectWithRetry } from './internal/connectRetry.js';
import { checkFrameLimits } from './internal/options.js';
import { EarlyArrivals } from './internal/earlyArrivals.js';
import { checkAccess, describeOwner, objectMode, ownedByAnother, removeOnExit, unlinkIfOurs } from './internal/ownedNames.js';
import type { AccessMode, ConnectOptions, ListenOptions, Transport } from './internal/transport.js';
import { rejectTcpOnlyOptions } from './internal/tcpOnlyOptions.js';
import { guardTcpAccept } from './internal/tcpAcceptGuard.js';
import { connectTcpGuarded, explainSecretOrTlsServer, needsTcpGuard } from './internal/tcpConnectGuard.js';


type Address = { kind: 'file'; path: string } | { kind: 'abstract'; name: string } | { kind: 'tcp'; host: string; port: number };

/**
 * The path a socket file is first bound at (listenOnFile): a private
 * directory beside it, `.procwire-XXXXXX/s`. It must fit in sun_path too,
 * or the kernel's bind would be given a cut-off path.
 */
export function bindPathBytes(path: string): number {
  return Buffer.byteLength(join(dirname(path), TEMPORARY_BIND_NAME));
}

/** What listenOnFile binds at first, beside the socket's path (mkdtemp's XXXXXX). */
export const TEMPORARY_BIND_NAME = '.procwire-XXXXXX/s';

/**
 * Why a socket file cannot be served at `path` (bound there by
 * listenOnFile, or only reached with `use` 'connect'), naming the limit; undefined when it can.
 */
export function socketPathProblem(path: string, use: 'listen' | 'connect'): string | undefined {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH_BYTES) return `${path} is ${bytes} bytes, longer than the ${MAX_UNIX_PATH_BYTES} bytes a Unix socket address holds`;
  if (use === 'listen' && bindPathBytes(path) > MAX_UNIX_PATH_BYTES) {
    return (
      `the directory is too long: the socket is first bound at ${join(dirname(path), TEMPORARY_BIND_NAME)} (${bindPathBytes(path)} bytes), ` +
      `and a Unix socket address holds ${MAX_UNIX_PATH_BYTES}; a directory of at most ${MAX_UNIX_PATH_BYTES - 1 - TEMPORARY_BIND_NAME.length} bytes is needed`
    );
  }
  return undefined;
}

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
    if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) throw invalidEndpoint(endpoint.url, `the name is longer than ${MAX_UNIX_PATH_BYTES} bytes`);
    return { kind: 'abstract', name: path.slice(1) };
  }
  if (!isAbsolute(path)) throw invalidEndpoint(endpoint.url, 'expected an absolute path, as in unix:///run/app/calc.sock');
  const problem = socketPathProblem(path, use);
  if (problem) throw invalidEndpoint(endpoint.url, problem);
  return { kind: 'file', path };
}

function rejectQuery(endpoint: Endpoint): void {
  const names = [...endpoint.searchParams.keys()];
  if (names.length > 0) throw invalidEndpoint(endpoint.url, `unknown option ${names.map((n) => `"${n}"`).join(', ')}`);
}

function tcpAddress(endpoint: Endpoint): Address {
  rejectQuery(endpoint);
  if (!endpoint.host) throw invalidEndpoint(endpoint.url, 'expected tcp://host:port');
  if (endpoint.port === undefined) throw invalidEndpoint(endpoint.url, 'the port is missing (use :0 for any free port)');
  return { kind: 'tcp', host: endpoint.host, port: endpoint.port };
}

function netPath(address: Address): string | { host: string; port: number } {
  if (address.kind === 'file') return address.path;
  if (address.kind === 'abstract') return `\0${address.name}`;
  return { host: address.host, port: address.port };
}

function describe(address: Address): string {
  if (address.kind === 'file') return `unix://${address.path}`;
  if (address.kind === 'abstract') return `unix:@${address.name}`;
  return `tcp://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

function linkFor(
  socket: Socket,
  address: Address,
  options: ListenOptions | ConnectOptions,
  peerAddress?: string,
  credentials?: PeerCredentials,
): Link {
  if (address.kind === 'tcp') socket.setNoDelay(true);
  const peer: PeerInfo = {
    transport: address.kind === 'tcp' ? 'tcp' : 'unix',
    address: peerAddress ?? describe(address),
    ...credentials,
  };
  return createStreamLink(socket, socket, { peer, limits: options.limits, nativeDuplex: true });
}

function listenOn(server: NetServer, where: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * The kernel's record of who is at the other end of a connected Unix socket
 * (Linux SO_PEERCRED); undefined where the platform or the socket cannot tell.
 */
export function peerCredentialsOf(socket: Socket): PeerCredentials | undefined {
  if (process.platform !== 'linux') return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return native.socketPeerCredentials(fd);
  } catch {
    return undefined;
  }
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
  const who = credentials ? `pid ${credentials.pid}, ${describeOwner(credentials.uid)}, gid ${credentials.gid}` : 'a peer the kernel could not name';
  const users = uid === 0 ? describeOwner(0) : `${describeOwner(uid)} and root`;
  const admitted = access === 'group' ? `${users}, and peers of gid ${process.getegid?.()}` : users;
  return new ProcwireError(
    ErrorCode.ACCESS_DENIED,
    `${describe(address)} refused ${who}: an abstract socket has no file mode, so it admits only ${admitted} (access '${access}')`,
  );
}

/** Binds in a private directory, then links the socket, already `mode` (0600 or 0660), into place. */
export async function listenOnFile(server: NetServer, path: string, mode = 0o600): Promise<{ ino: number }> {
  const privateDir = await mkdtemp(join(dirname(path), '.procwire-'));
  const bound = join(privateDir, 's');
  try {
    await listenOn(server, bound);
    await chmod(bound, mode);
    for (let attempt = 0; ; attempt++) {
      try {
        await hardLink(bound, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
        await removeIfStale(path);
      }
    }
    return { ino: (await stat(path)).ino };
  } catch (error) {
    server.close();
    throw error;
  } finally {
    await unlink(bound).catch(() => {});
    await rmdir(privateDir).catch(() => {});
  }
}

/** Removes a socket file no server answers on; a live one is never touched. */
async function removeIfStale(path: string): Promise<void> {
  const info = await lstat(path);
  if (!info.isSocket()) {
    throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${path} exists and is not a socket; not replacing it`);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'ECONNREFUSED'));
  });
  if (alive) throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `a server is already listening on unix://${path}`);
  if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
    throw ownedByAnother(`${path} (a stale socket)`, info.uid);
  }
  await unlink(path);
}

async function listen(address: Address, options: ListenOptions): Promise<LinkAcceptor> {
  const access = checkAccess(options.access);
  if (address.kind === 'abstract') requirePeerChecks(address);
  if (address.kind !== 'tcp') rejectTcpOnlyOptions('unix', options);
  // tcp: with a secret or TLS: the guard's server hands sockets over only once they passed.
  const guard = address.kind === 'tcp' ? await guardTcpAccept(options, (socket) => connections.arrive(socket)) : undefined;
  const server = guard?.server ?? createServer({ noDelay: address.kind === 'tcp', pauseOnConnect: false });
  const connections = new EarlyArrivals<Socket>();
  server.on('connection', (socket: Socket) => {
    if (guard) return;
    if (address.kind === 'abstract') {
      const credentials = peerCredentialsOf(socket);
      if (!abstractAdmits(credentials, access)) {
        // Closed before a byte of it is read.
        socket.destroy();
        options.onRefused?.(abstractRefusal(address, access, credentials), { transport: 'unix', address: describe(address), ...credentials });
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
    throw listenError(error, address);
  }
  let url = describe(address);
  if (address.kind === 'tcp') {
    const bound = server.address();
    if (bound && typeof bound === 'object') url = describe({ ...address, port: bound.port });
  }
  const file = ownFile;
  const removeFile = file ? removeOnExit(() => unlinkIfOurs(file.path, file.ino)) : () => {};
  let closing: Promise<void> | undefined;
  return {
    url,
    start(onLink) {
      connections.start((socket) => {
        const remote = address.kind === 'tcp' ? `tcp://${socket.remoteAddress}:${socket.remotePort}` : undefined;
        const credentials = address.kind === 'tcp' ? undefined : peerCredentialsOf(socket);
        let link: Link;
        try {
          link = linkFor(socket, address, options, remote, credentials);
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
        guard?.close();
        removeFile();
      })();
      return closing;
    },
  };
}

function listenError(error: unknown, address: Address): unknown {
  if (error instanceof ProcwireError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${describe(address)} is already in use`, { cause: error });
  }
  return new ProcwireError(ErrorCode.LISTEN_FAILED, `cannot listen on ${describe(address)}: ${(error as Error).message}`, {
    cause: error,
  });
}

function connect(address: Address, options: ConnectOptions): Promise<Link> {
  if (address.kind !== 'tcp') rejectTcpOnlyOptions('unix', options);
  else if (needsTcpGuard(options)) return connectTcpGuarded(address.host, address.port, describe(address), options, (socket) => linkFor(socket, address, options));
  return connectWithRetry(describe(address), options.waitMs ?? 0, () =>
    new Promise<Link>((resolve, reject) => {
      const socket = createConnection(netPath(address) as never);
      socket.once('connect', () => {
        socket.off('error', reject);
        // A client's link names the server process the same way.
        const credentials = address.kind === 'tcp' ? undefined : peerCredentialsOf(socket);
        try {
          const link = linkFor(socket, address, options, undefined, credentials);
          resolve(address.kind === 'tcp' ? explainSecretOrTlsServer(link, socket, describe(address)) : link);
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

// Limits are checked before anything is opened: a link made later in a socket callback must not throw.
export const unixTransport: Transport = {
  scheme: 'unix',
  platforms: ['linux', 'darwin', 'freebsd', 'openbsd', 'sunos', 'aix'],
  peerCredentials: process.platform === 'linux',
  listen: async (endpoint, options) => listen(unixAddress(endpoint, 'listen'), { ...options, limits: checkFrameLimits(options.limits) }),
  connect: async (endpoint, options) => connect(unixAddress(endpoint, 'connect'), { ...options, limits: checkFrameLimits(options.limits) }),
};

export const tcpTransport: Transport = {
  scheme: 'tcp',
  listen: async (endpoint, options) => listen(tcpAddress(endpoint), { ...options, limits: checkFrameLimits(options.limits) }),
  connect: async (endpoint, options) => connect(tcpAddress(endpoint), { ...options, limits: checkFrameLimits(options.limits) }),
};
