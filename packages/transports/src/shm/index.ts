/**
 * `shm:///name` — shared-memory rings (Linux here; Windows has the same
 * rings over a named file mapping, see shm/windows.ts).
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Rendezvous: the server listens on a Unix SOCK_SEQPACKET socket
 *   `<private runtime dir>/shm-<name>.sock` (mode 0600 in a 0700 directory of
 *   the user; see rendezvousPath). A client connects and says `PWSHM/1`; the
 *   server answers with the ring capacity and three descriptors (SCM_RIGHTS):
 *   a new segment for this connection and two eventfds, one doorbell per side.
 * - The segment is an anonymous memfd, sealed against shrinking and growing
 *   before it leaves the server, so no process can ever make the other's
 *   mapping fault (SIGBUS); the client refuses one that is not sealed or not
 *   the announced size. It has no name: nothing to squat, guess or leak, and
 *   the kernel frees it when both sides have closed it.
 * - Data: two single-producer/single-consumer rings (client to server, server
 *   to client) of length-prefixed frames (packages/native/src/common/ring.h).
 *   Frames larger than a ring go through it in pieces. Each side keeps its own
 *   cursors and checks the peer's: nonsense in the segment is a PROTOCOL (or
 *   FRAME_TOO_LARGE) error that closes that connection, never a crash.
 * - Waking: a side that runs out of work spins for a while or sleeps (see
 *   WaitPolicy); sleeping, it asks the peer to ring its eventfd, which the
 *   event loop waits on. A busy connection makes no system call per frame.
 * - Handshake: a rendezvous connection's `PWSHM/1` holds a HandshakeGate
 *   slot; Windows bounds its rendezvous pipe the same way.
 * - Liveness: the rendezvous socket stays open for the life of the
 *   connection. When either process dies the kernel closes it, even if the
 *   peer died in the middle of writing a frame. A clean close
 *   says goodbye on it after the last frame.
 * - The socket file is the server's lock: a second server gets
 *   ADDRESS_IN_USE; the file of a crashed server (connect refused) is
 *   replaced. It is removed when the server closes.
 * - Access: with `access: 'group'` the rendezvous is
 *   `<temp dir>/procwire-shm-<name>/sock` instead (directory 0750, socket
 *   0660; see groupEndpointDir), where clients look when the private one has
 *   none. A client takes a server of another user only from such a
 *   directory that is verifiably that server's (owner = the uid SO_PEERCRED
 *   reports, exactly 0750, of a group of the client's).
 * - Peer credentials: both sides' links carry the pid, uid and gid the
 *   kernel recorded for the rendezvous socket's other end (SO_PEERCRED).
 * - URL options: `?wait=spin|sleep|auto` (default auto: spin when the process
 *   may use more than one CPU), `spinMicros=<0..1000000>` (default 50), and on
 *   the server `ringBytes=<power of two, 4096..1 GiB>` (default 1 MiB per
 *   direction; a client's value is ignored: the server's wins).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ProcwireError, type resolveFrameLimits, type Link, type LinkAcceptor, type PeerInfo } from '@procwire/core';
import { native, type FdWatcher, type ShmChannel } from '@procwire/native';
import { connectWithRetry } from '../links/connectRetry.js';
import { checkFrameLimits } from '../options.js';
import { invalidEndpoint, type Endpoint } from '../endpoint.js';
import { admitHandshake } from '../handshake/admission.js';
import { HandshakeGate, handshakeLimitRefusal, TRANSPORT_HANDSHAKE_TIMEOUT_MS, type HandshakeSlot } from '../handshake/gate.js';
import { checkAccess, objectMode, removeOnExit, unlinkIfOurs } from '../names/ownedNames.js';
import {
  groupEndpointDir,
  makeGroupEndpointDir,
  otherPath,
  checkDerivedSocketPaths,
  privateRuntimeDirPath,
  reachPrivateOrGroup,
  removeGroupEndpointDir,
  unsharedServer,
} from '../names/runtimeDir.js';
import { ShmLink } from './link.js';
import { groupRendezvousPath, rendezvousName, rendezvousPath, shmNamedObjects } from './names.js';
import { eventFdSignals } from './signals.js';
import { connectWindows, listenWindows } from './windows.js';
import { DEFAULT_SPIN_MICROS, MAX_SPIN_MICROS, resolveWaitPolicy, type WaitPolicy } from './wait.js';
import type { TransportConnectOptions, ListenOptions, Transport } from '../transport.js';

const NAME = /^\/([A-Za-z0-9._-]{1,200})$/;
const HELLO = Buffer.from('PWSHM/1\n');
const OFFER = /^PWSHM\/1 (\d{1,10})\n$/;
/** Each side's ring header area before the data (ring.h kHeaderBytes). */
const RING_HEADER_BYTES = 256;
const DEFAULT_RING_BYTES = 1024 * 1024;
const MIN_RING_BYTES = 4096;
const MAX_RING_BYTES = 1024 * 1024 * 1024;
const SERVER_SIDE = 0;
const CLIENT_SIDE = 1;

interface ShmEndpoint {
  readonly name: string;
  readonly wait: WaitPolicy;
  readonly ringBytes: number;
}

/** How long the rendezvous stops accepting after accept() failed (descriptors exhausted). */
const ACCEPT_RETRY_MS = 100;

function parse(endpoint: Endpoint): ShmEndpoint {
  if (endpoint.host) throw invalidEndpoint(endpoint.url, `shm: URLs have no host ("${endpoint.host}"); write shm:///name`);
  const name = NAME.exec(endpoint.path)?.[1];
  if (!name) throw invalidEndpoint(endpoint.url, 'expected shm:///name, a name of letters, digits, ".", "_" or "-"');
  let wait: 'spin' | 'sleep' | 'auto' = 'auto';
  let spinMicros = DEFAULT_SPIN_MICROS;
  let ringBytes = DEFAULT_RING_BYTES;
  for (const [key, value] of endpoint.searchParams) {
    if (key === 'wait') {
      if (value !== 'spin' && value !== 'sleep' && value !== 'auto')
        throw invalidEndpoint(endpoint.url, 'wait= must be spin, sleep or auto');
      wait = value;
    } else if (key === 'spinMicros') {
      spinMicros = integerOption(endpoint.url, key, value, 0, MAX_SPIN_MICROS);
    } else if (key === 'ringBytes') {
      ringBytes = integerOption(endpoint.url, key, value, MIN_RING_BYTES, MAX_RING_BYTES);
      if ((ringBytes & (ringBytes - 1)) !== 0) throw invalidEndpoint(endpoint.url, 'ringBytes= must be a power of two');
    } else {
      throw invalidEndpoint(endpoint.url, `unknown option "${key}" (shm: takes wait, spinMicros and ringBytes)`);
    }
  }
  if (process.platform !== 'win32') {
    // Both rendezvous paths a client may try, as first bound (bindRendezvous's temporary suffix).
    const bound = (path: string) => `${path}.${'x'.repeat(2 * BIND_SUFFIX_BYTES)}`;
    checkDerivedSocketPaths(endpoint.url, name, [
      bound(join(privateRuntimeDirPath(), rendezvousName(name))),
      bound(groupRendezvousPath(name)),
    ]);
  }
  return { name, wait: resolveWaitPolicy(wait, spinMicros), ringBytes };
}

function integerOption(url: string, key: string, value: string, min: number, max: number): number {
  const number = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max)) throw invalidEndpoint(url, `${key}= must be an integer from ${min} to ${max}`);
  return number;
}

/** Random bytes (hex in the name) of the temporary name bindRendezvous binds at first. */
const BIND_SUFFIX_BYTES = 6;

function segmentBytes(ringBytes: number): number {
  return 2 * (RING_HEADER_BYTES + ringBytes);
}

function closeQuietly(...fds: Array<number | undefined>): void {
  for (const fd of fds) {
    if (fd === undefined) continue;
    try {
      native.close(fd);
    } catch {
      // already closed
    }
  }
}

/**
 * Binds the rendezvous socket at `path`: bound under a temporary name, made
 * 0600, then hard-linked into place, which fails if the name exists, so a
 * live server's socket is never replaced. A stale one (nobody answers) is
 * removed and the link tried once more.
 */
function bindRendezvous(path: string, mode: number): { fd: number; ino: number } {
  const bound = `${path}.${randomBytes(BIND_SUFFIX_BYTES).toString('hex')}`;
  const fd = native.seqpacketListen(bound, 511);
  try {
    chmodSync(bound, mode);
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(bound, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
        removeIfStale(path);
      }
    }
    return { fd, ino: lstatSync(path).ino };
  } catch (error) {
    closeQuietly(fd);
    throw error;
  } finally {
    try {
      unlinkSync(bound);
    } catch {
      // never made
    }
  }
}

function seqpacketAnswers(path: string): boolean {
  try {
    closeQuietly(native.seqpacketConnect(path));
    return true;
  } catch {
    return false;
  }
}

function removeIfStale(path: string): void {
  if (!lstatSync(path).isSocket())
    throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${path} exists and is not a socket; not replacing it`);
  let probe: number;
  try {
    probe = native.seqpacketConnect(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return unlinkSync(path);
    if (code === 'ENOENT') return;
    throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${path} is in use (${code})`, { cause: error });
  }
  closeQuietly(probe);
  throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, 'a server is already listening there');
}

async function listen(endpoint: Endpoint, options: ListenOptions): Promise<LinkAcceptor> {
  const shm = parse(endpoint);
  // The options stay in the URL clients are given, so they wait the same way.
  const query = endpoint.searchParams.toString();
  const url = `shm:///${shm.name}${query ? `?${query}` : ''}`;
  const limits = checkFrameLimits(options.limits);
  const access = checkAccess(options.access);
  const groupDir = access === 'group' ? groupEndpointDir('shm', shm.name) : undefined;
  const path = groupDir ? groupRendezvousPath(shm.name) : rendezvousPath(shm.name);
  let listener: { fd: number; ino: number };
  try {
    if (groupDir) makeGroupEndpointDir(groupDir);
    listener = bindRendezvous(path, objectMode(access));
  } catch (error) {
    if (error instanceof ProcwireError && error.code === ErrorCode.ADDRESS_IN_USE) {
      throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `cannot listen on ${url}: ${error.message}`, { cause: error });
    }
    throw new ProcwireError(ErrorCode.LISTEN_FAILED, `cannot listen on ${url}: ${(error as Error).message}`, { cause: error });
  }
  const removeName = removeOnExit(() => {
    unlinkIfOurs(path, listener.ino);
    if (groupDir) removeGroupEndpointDir(groupDir);
  });
  // The same user's server in the other mode meets its clients elsewhere.
  const other = otherPath(() => (groupDir ? rendezvousPath(shm.name) : groupRendezvousPath(shm.name)));
  if (other !== undefined && seqpacketAnswers(other)) {
    closeQuietly(listener.fd);
    removeName();
    throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `cannot listen on ${url}: a server is already listening there (at ${other})`);
  }
  const gate = new HandshakeGate();
  let acceptWatcher: FdWatcher | undefined;
  let closing: Promise<void> | undefined;

  /**
   * Waits for one client's hello, then hands it its segment and doorbells.
   * Until then the connection holds a slot of the gate: a silent client is
   * closed at the deadline, and past the gate's limit at once.
   */
  const handshake = (fd: number, onLink: (link: Link) => void) => {
    const buffer = Buffer.alloc(64);
    let watcher: FdWatcher | undefined;
    let slot: HandshakeSlot | undefined;
    let ended = false;
    const end = (link?: Link) => {
      if (ended) return;
      ended = true;
      slot?.release();
      watcher?.close();
      if (link) onLink(link);
      else closeQuietly(fd);
    };
    const abandon = () => end();
    slot = admitHandshake(gate, rendezvousPeer(fd, url), options, abandon);
    if (!slot) return;
    try {
      watcher = new native.FdWatcher(fd, () => {
        let message: { bytes: number; fds: number[] } | null;
        try {
          message = native.socketReceive(fd, buffer);
        } catch {
          return abandon();
        }
        if (message === null) return;
        closeQuietly(...message.fds);
        if (message.bytes !== HELLO.length || !buffer.subarray(0, HELLO.length).equals(HELLO)) return abandon();
        watcher!.close();
        let link: ShmLink | undefined;
        try {
          link = offer(fd, shm, limits, url);
        } catch {
          // Out of memory or descriptors: this client goes, the server stays.
        }
        end(link);
      });
      watcher.watch(native.constants.POLL_READABLE | native.constants.POLL_DISCONNECT);
    } catch {
      abandon();
    }
  };

  return {
    url,
    start(onLink) {
      acceptWatcher = new native.FdWatcher(listener.fd, () => {
        for (;;) {
          let fd: number;
          try {
            fd = native.socketAccept(listener.fd);
          } catch {
            // Out of descriptors with no spare to shed the waiting connections
            // (socketAccept does that when it can): the listener stays
            // readable, so stop looking for a while instead of spinning.
            // (The timer keeps the process alive meanwhile, as the watcher did.)
            acceptWatcher!.watch(0);
            setTimeout(() => {
              if (!closing) acceptWatcher!.watch(native.constants.POLL_READABLE);
            }, ACCEPT_RETRY_MS);
            return;
          }
          if (fd < 0) return;
          handshake(fd, onLink);
        }
      });
      acceptWatcher.watch(native.constants.POLL_READABLE);
    },
    close() {
      closing ??= (async () => {
        acceptWatcher?.close();
        closeQuietly(listener.fd);
        removeName();
        gate.close();
      })();
      return closing;
    },
  };
}

/** Who is at the other end of a rendezvous connection, for refusals (SO_PEERCRED). */
function rendezvousPeer(fd: number, url: string): PeerInfo {
  try {
    const credentials = native.socketPeerCredentials(fd);
    return { transport: 'shm', address: `${url} (pid ${credentials.pid})`, ...credentials };
  } catch {
    return { transport: 'shm', address: url };
  }
}

/** The server's half of a connection: makes the segment and doorbells and sends them. */
function offer(fd: number, shm: ShmEndpoint, limits: ReturnType<typeof resolveFrameLimits>, url: string): ShmLink {
  let segment: number | undefined;
  let serverBell: number | undefined;
  let clientBell: number | undefined;
  let channel: ShmChannel | undefined;
  try {
    segment = native.createSegment(segmentBytes(shm.ringBytes));
    serverBell = native.createEventFd();
    clientBell = native.createEventFd();
    channel = new native.ShmChannel(segment, SERVER_SIDE, shm.ringBytes, limits.maxFrameBytes, serverBell, clientBell);
    const sent = native.socketSend(fd, Buffer.from(`PWSHM/1 ${shm.ringBytes}\n`), [segment, serverBell, clientBell]);
    if (!sent) throw new Error('the rendezvous socket is full');
    const credentials = native.socketPeerCredentials(fd);
    return new ShmLink({
      peer: { transport: 'shm', address: `${url} (pid ${credentials.pid})`, ...credentials },
      limits,
      channel,
      capacity: shm.ringBytes,
      signals: eventFdSignals(serverBell, clientBell, fd),
      wait: shm.wait,
    });
  } catch (error) {
    channel?.close();
    closeQuietly(serverBell, clientBell);
    throw error;
  } finally {
    // Mapped on this side and sent to the client: the descriptor is no longer needed.
    closeQuietly(segment);
  }
}

async function connect(endpoint: Endpoint, options: TransportConnectOptions): Promise<Link> {
  const shm = parse(endpoint);
  const url = `shm:///${shm.name}`;
  const limits = checkFrameLimits(options.limits);
  const { reached: fd, viaGroup } = await connectWithRetry(url, options.waitMs ?? 0, () =>
    reachPrivateOrGroup(rendezvousPath(shm.name), groupRendezvousPath(shm.name), (path) => native.seqpacketConnect(path)),
  );
  try {
    const credentials = native.socketPeerCredentials(fd);
    const refusal = unsharedServer(url, groupEndpointDir('shm', shm.name), credentials.uid, viaGroup);
    if (refusal) throw refusal;
    if (!sendHello(fd, url)) throw new ProcwireError(ErrorCode.CONNECT_FAILED, `${url}: the rendezvous socket is full`);
    const { text, fds } = await receiveOffer(fd, url);
    return acceptOffer(fd, text, fds, shm, limits, url, credentials);
  } catch (error) {
    closeQuietly(fd);
    throw error;
  }
}

/**
 * A server that refuses a connection (its handshake gate is full) closes
 * the rendezvous at once: sending, or receiving with our hello unread,
 * then fails with EPIPE or ECONNRESET.
 */
function closedByServer(error: unknown, url: string): ProcwireError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'EPIPE' && code !== 'ECONNRESET') return undefined;
  return refusedDuringHandshake(url, error);
}

/** The server closed the rendezvous before its offer: the gate was full, most likely. */
function refusedDuringHandshake(url: string, cause?: unknown): ProcwireError {
  return handshakeLimitRefusal(url, { cause, or: 'or it is closing, or could not make this connection (out of memory or descriptors)' });
}

function sendHello(fd: number, url: string): boolean {
  try {
    return native.socketSend(fd, HELLO, []);
  } catch (error) {
    throw closedByServer(error, url) ?? error;
  }
}

/** Waits for the server's answer to the hello. */
function receiveOffer(fd: number, url: string): Promise<{ text: string; fds: number[] }> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.alloc(64);
    const watcher = new native.FdWatcher(fd, () => {
      let message: { bytes: number; fds: number[] } | null;
      try {
        message = native.socketReceive(fd, buffer);
      } catch (error) {
        return done(
          closedByServer(error, url) ??
            new ProcwireError(ErrorCode.PROTOCOL, `${url} answered the connection request wrongly: ${(error as Error).message}`),
        );
      }
      if (message === null) return;
      if (message.bytes === 0) return done(refusedDuringHandshake(url));
      done(undefined, { text: buffer.toString('latin1', 0, message.bytes), fds: message.fds });
    });
    const timer = setTimeout(
      () =>
        done(
          new ProcwireError(
            ErrorCode.CONNECT_FAILED,
            `${url} did not answer the connection request within ${TRANSPORT_HANDSHAKE_TIMEOUT_MS} ms`,
          ),
        ),
      TRANSPORT_HANDSHAKE_TIMEOUT_MS,
    );
    function done(error?: Error, result?: { text: string; fds: number[] }) {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve(result!);
    }
    watcher.watch(native.constants.POLL_READABLE | native.constants.POLL_DISCONNECT);
  });
}

/** The client's half: checks the segment it was given before mapping it. */
function acceptOffer(
  fd: number,
  text: string,
  fds: number[],
  shm: ShmEndpoint,
  limits: ReturnType<typeof resolveFrameLimits>,
  url: string,
  credentials: { pid: number; uid: number; gid: number },
): ShmLink {
  const refuse = (why: string) => {
    closeQuietly(...fds);
    return new ProcwireError(ErrorCode.PROTOCOL, `${url} offered an unusable connection: ${why}`);
  };
  const ringBytes = Number(OFFER.exec(text)?.[1] ?? Number.NaN);
  if (!(ringBytes >= MIN_RING_BYTES && ringBytes <= MAX_RING_BYTES && (ringBytes & (ringBytes - 1)) === 0)) {
    throw refuse(`bad offer ${JSON.stringify(text)}`);
  }
  if (fds.length !== 3) throw refuse(`expected 3 descriptors, got ${fds.length}`);
  const [segment, serverBell, clientBell] = fds as [number, number, number];
  const info = native.segmentInfo(segment);
  if (!info.sealed) throw refuse('the segment is not sealed against resizing');
  if (info.size !== segmentBytes(ringBytes)) throw refuse(`the segment is ${info.size} bytes, not ${segmentBytes(ringBytes)}`);
  let channel: ShmChannel;
  try {
    channel = new native.ShmChannel(segment, CLIENT_SIDE, ringBytes, limits.maxFrameBytes, clientBell, serverBell);
  } catch (error) {
    throw refuse((error as Error).message);
  } finally {
    closeQuietly(segment);
  }
  return new ShmLink({
    peer: { transport: 'shm', address: url, ...credentials },
    limits,
    channel,
    capacity: ringBytes,
    signals: eventFdSignals(clientBell, serverBell, fd),
    wait: shm.wait,
  });
}

export const shmTransport: Transport = {
  scheme: 'shm',
  platforms: ['linux', 'win32'],
  peerCredentials: process.platform === 'linux',
  namedObjects: shmNamedObjects,
  listen: (endpoint, options) => {
    if (process.platform !== 'win32') return listen(endpoint, options);
    if (checkAccess(options.access) === 'group') {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, "access: 'group' is not available for shm: on Windows");
    }
    const shm = parse(endpoint);
    const query = endpoint.searchParams.toString();
    return listenWindows(shm, `shm:///${shm.name}${query ? `?${query}` : ''}`, options);
  },
  connect: (endpoint, options) =>
    process.platform === 'win32' ? connectWindows(parse(endpoint), `shm:///${parse(endpoint).name}`, options) : connect(endpoint, options),
};
