/**
 * `fifo:///dir/name` — named pipes (FIFOs) between unrelated processes.
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Who creates: the server creates the well-known FIFO `/dir/name` (mode
 *   0600) and reads connection requests from it. A client creates its own
 *   pair `/dir/name.<id>.c2s` and `/dir/name.<id>.s2c` (0600), then writes
 *   one request line `PWFIFO/1 <id>\n` to the well-known FIFO. A request is
 *   far below PIPE_BUF, so requests from many clients never interleave; each
 *   connection's frames travel only on its own pair, so frames of different
 *   writers never interleave either (on one shared FIFO, large frames of two
 *   writers do). Both sides remove the pair's names once both have it open.
 * - Peer vanishes: the survivor reads end-of-file (or gets EPIPE writing). A
 *   writer that dies mid-frame costs only its own connection.
 * - Handshake: from its request until its first frame arrives (it has
 *   opened its side), a connection holds a slot of the listener's
 *   HandshakeGate; a request refused by it has its pair's names removed,
 *   so its client fails at once, and the server removes the names of every
 *   pair it dropped.
 * - Stale names: a well-known FIFO nobody reads (connect gives ENXIO) is
 *   replaced; one a live server reads gives ADDRESS_IN_USE. Names owned by
 *   another user, or that are not FIFOs, are refused (naming the owner),
 *   never used.
 * - Access: with `access: 'group'` the well-known FIFO is 0660 instead of
 *   0600. A client of another user uses such a FIFO only when its mode is
 *   exactly 0660 and its group is one of the client's; it then makes its
 *   pair 0660 in that group, and the server takes a pair of another user only
 *   then (in owner mode, only its own user's). The directory must let those
 *   clients create their pairs in it (e.g. group-writable and sticky).
 * - Peer credentials: the server's link carries the uid and gid of the
 *   client's pair as the kernel recorded them when the client created it (a
 *   FIFO has no SO_PEERCRED): the uid is the client's; the gid is its
 *   effective gid, or the endpoint's group it moved the pair to (a user can
 *   only give a file a group it is a member of). The pid is not known.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants as fsConstants,
  fstatSync,
  lchownSync,
  lstatSync,
  openSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { Socket } from 'node:net';
import { basename, isAbsolute } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStreamLink, ErrorCode, ProcwireError, type Link, type LinkAcceptor, type PeerInfo } from '@procwire/core';
import { native } from '@procwire/native';
import { invalidEndpoint, type Endpoint } from '../endpoint.js';
import { connectWithRetry } from '../links/connectRetry.js';
import { admitHandshake } from '../handshake/admission.js';
import { HandshakeGate, handshakeLimitRefusal, TRANSPORT_HANDSHAKE_TIMEOUT_MS, type HandshakeSlot } from '../handshake/gate.js';
import { checkFrameLimits } from '../options.js';
import { interceptLink } from '../links/interceptLink.js';
import {
  checkAccess,
  describeOwner,
  objectMode,
  ownedByAnother,
  ownUid,
  removeOnExit,
  sharedWithMyGroup,
  unlinkIfOurs,
} from '../names/ownedNames.js';
import type { TransportConnectOptions, ListenOptions, Transport } from '../transport.js';
import { fifoNamedObjects } from './names.js';

const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fsConstants;
/** A connection request: protocol tag and the client's id. */
const REQUEST = /^PWFIFO\/1 ([0-9a-f]{32})$/;
/** Longest request line accepted (anything longer is garbage and dropped). */
const MAX_REQUEST_LINE = 64;
/** sun_path-like limit is not an issue for FIFOs, but PATH_MAX is. */
const MAX_PATH_BYTES = 4000;
/** NAME_MAX: the longest file name (one path component) Linux and macOS file systems take. */
const MAX_NAME_BYTES = 255;
/** What a client's pair adds to the well-known name: `.<32 hex>.c2s`. */
const PAIR_SUFFIX_BYTES = '.0123456789abcdef0123456789abcdef.c2s'.length;

function fifoPath(endpoint: Endpoint): string {
  if (endpoint.host) {
    throw invalidEndpoint(endpoint.url, `fifo: URLs have no host ("${endpoint.host}"); write fifo:///dir/name with three slashes`);
  }
  if (!isAbsolute(endpoint.path) || endpoint.path.endsWith('/')) {
    throw invalidEndpoint(endpoint.url, 'expected an absolute path of a FIFO, as in fifo:///run/app/calc');
  }
  if (Buffer.byteLength(endpoint.path) > MAX_PATH_BYTES)
    throw invalidEndpoint(endpoint.url, `the path is longer than ${MAX_PATH_BYTES} bytes`);
  // Every client makes its pair beside the well-known FIFO: those names must fit too.
  const nameBytes = Buffer.byteLength(basename(endpoint.path));
  if (nameBytes + PAIR_SUFFIX_BYTES > MAX_NAME_BYTES) {
    throw invalidEndpoint(
      endpoint.url,
      `the name ${basename(endpoint.path)} is ${nameBytes} bytes; each client's pair adds ${PAIR_SUFFIX_BYTES} (".<id>.c2s") and a file name holds ${MAX_NAME_BYTES}, so the name may have at most ${MAX_NAME_BYTES - PAIR_SUFFIX_BYTES} bytes`,
    );
  }
  if ([...endpoint.searchParams.keys()].length > 0) throw invalidEndpoint(endpoint.url, 'fifo: URLs take no options');
  return endpoint.path;
}

function fileKind(info: Stats): string {
  if (info.isFile()) return 'a regular file';
  if (info.isDirectory()) return 'a directory';
  if (info.isSocket()) return 'a socket';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'a device';
}

const pairNames = (path: string, id: string) => ({ c2s: `${path}.${id}.c2s`, s2c: `${path}.${id}.s2c` });

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** Which FIFOs of another user are acceptable (none unless a mode says so). */
type ForeignRule = (info: Stats) => boolean;
const OWN_ONLY: ForeignRule = () => false;
/** A client takes a well-known FIFO another user shared with a group of the client's. */
const SHARED_WITH_ME: ForeignRule = (info) => sharedWithMyGroup(info, objectMode('group'));

/** A FIFO we may use: a FIFO, owned by this user or acceptable to `foreign`. */
function checkFifo(info: Stats, path: string, foreign: ForeignRule): void {
  const uid = ownUid();
  if (!info.isFIFO()) throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${path} exists and is not a FIFO; not using it`);
  if (uid !== undefined && info.uid !== uid && !foreign(info)) throw ownedByAnother(path, info.uid);
}

/** Opens a FIFO end and checks that what was opened is the FIFO that was checked (no swap in between). */
function openChecked(path: string, flags: number, foreign: ForeignRule = OWN_ONLY): number {
  const before = lstatSync(path);
  checkFifo(before, path, foreign);
  const fd = openSync(path, flags | O_NONBLOCK);
  const after = fstatSync(fd);
  if (after.ino !== before.ino || after.dev !== before.dev) {
    closeSync(fd);
    throw new ProcwireError(ErrorCode.PROTOCOL, `${path} was replaced while being opened`);
  }
  return fd;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function removePair(names: { c2s: string; s2c: string }): void {
  unlinkQuietly(names.c2s);
  unlinkQuietly(names.s2c);
}

/**
 * The link over a pair's two descriptors. From here on the sockets own
 * them: closing one behind libuv's back (closeSync) would make the event
 * loop abort the process (epoll_ctl EBADF), so a failure destroys the
 * sockets instead.
 */
function fifoLink(readFd: number, writeFd: number, peer: PeerInfo, options: ListenOptions): Link {
  const input = new Socket({ fd: readFd, readable: true, writable: false });
  const output = new Socket({ fd: writeFd, readable: false, writable: true });
  try {
    return createStreamLink(input, output, { peer, limits: options.limits, nativeDuplex: false });
  } catch (error) {
    input.destroy();
    output.destroy();
    throw error;
  }
}

/** Creates the well-known FIFO (exactly `mode`), replacing a stale one; refuses a live server's and another user's. */
function createWellKnown(path: string, mode: number): void {
  for (let attempt = 0; ; attempt++) {
    try {
      native.mkfifo(path, mode);
      return;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        throw new ProcwireError(ErrorCode.LISTEN_FAILED, `cannot create ${path}: its directory does not exist`, { cause: error });
      }
      if (errnoCode(error) !== 'EEXIST' || attempt > 0) {
        throw new ProcwireError(ErrorCode.LISTEN_FAILED, `cannot create ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    checkFifo(lstatSync(path), path, OWN_ONLY);
    let probe: number;
    try {
      probe = openSync(path, O_WRONLY | O_NONBLOCK);
    } catch (error) {
      if (errnoCode(error) !== 'ENXIO') throw error;
      unlinkQuietly(path); // nobody reads it: a crashed server's
      continue;
    }
    closeSync(probe);
    throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `a server is already listening on fifo://${path}`);
  }
}

async function listen(endpoint: Endpoint, given: ListenOptions): Promise<LinkAcceptor> {
  const path = fifoPath(endpoint);
  const options = { ...given, limits: checkFrameLimits(given.limits) };
  const access = checkAccess(options.access);
  createWellKnown(path, objectMode(access));
  const requestFd = openChecked(path, O_RDONLY);
  // Holding a write end ourselves means the request FIFO never reports
  // end-of-file when a client closes its end after writing a request.
  const keepOpenFd = openSync(path, O_WRONLY | O_NONBLOCK);
  const { ino, gid: endpointGid } = fstatSync(requestFd);
  // In group mode, a pair of another user is taken when its client shared
  // it with the endpoint's group, exactly as a procwire client does.
  const pairRule: ForeignRule =
    access === 'group' ? (info) => (info.mode & 0o777) === objectMode('group') && info.gid === endpointGid : OWN_ONLY;
  const requests = new Socket({ fd: requestFd, readable: true, writable: false });
  let pending = '';
  let closing: Promise<void> | undefined;
  const removeName = removeOnExit(() => unlinkIfOurs(path, ino));
  const gate = new HandshakeGate();

  const accept = (id: string, onLink: (link: Link) => void) => {
    const names = pairNames(path, id);
    const address = `fifo://${path} (client ${id.slice(0, 8)})`;
    let link: Link | undefined;
    const slot = admitHandshake(gate, { transport: 'fifo', address }, options, () => {
      link?.destroy(new ProcwireError(ErrorCode.TIMEOUT, 'the FIFO client did not open its side in time'));
      removePair(names);
    });
    if (!slot) return;
    let writeFd: number | undefined;
    let readFd: number | undefined;
    let client: Stats;
    try {
      writeFd = openChecked(names.s2c, O_WRONLY, pairRule); // ENXIO: the client is gone
      readFd = openChecked(names.c2s, O_RDONLY, pairRule);
      client = fstatSync(readFd);
      // Both ends must be one client's: a request naming another's pair is dropped.
      if (fstatSync(writeFd).uid !== client.uid) throw new Error('the pair has two owners');
    } catch {
      // The client gave up (or never was): its names are leftovers.
      slot.release();
      if (writeFd !== undefined) closeSync(writeFd);
      if (readFd !== undefined) closeSync(readFd);
      removePair(names);
      return;
    }
    // The client still has to open c2s by name; it removes both names then.
    const peer: PeerInfo = { transport: 'fifo', address, uid: client.uid, gid: client.gid };
    try {
      link = untilFirstFrame(fifoLink(readFd, writeFd, peer, options), slot, names);
    } catch {
      // fifoLink closed the descriptors; this client goes, the server stays.
      slot.release();
      removePair(names);
      return;
    }
    onLink(link);
  };

  return {
    url: `fifo://${path}`,
    start(onLink) {
      requests.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          const match = REQUEST.exec(line);
          if (match) accept(match[1]!, onLink);
        }
        if (pending.length > MAX_REQUEST_LINE) pending = ''; // garbage; requests are atomic lines
      });
      requests.on('error', () => {});
    },
    close() {
      closing ??= (async () => {
        requests.destroy();
        gate.close();
        closeSync(keepOpenFd);
        removeName();
      })();
      return closing;
    },
  };
}

/**
 * Holds the handshake slot until the client's first frame: a connection
 * whose client never opens its side would never read end-of-file (a FIFO
 * reports it only after a writer came and went), so until then only the
 * gate's deadline ends it. Every procwire client sends its hello first.
 * A link that closes before that leaves its pair's names behind (its
 * client removes them only once it has opened its side): they go too.
 */
function untilFirstFrame(link: Link, slot: HandshakeSlot, names: { c2s: string; s2c: string }): Link {
  let opened = false;
  return interceptLink(link, (events) => ({
    frames(source, start, end) {
      if (!opened) {
        opened = true;
        slot.release();
      }
      events.frames(source, start, end);
    },
    close(error) {
      slot.release();
      if (!opened) removePair(names);
      events.close(error);
    },
  }));
}

async function connect(endpoint: Endpoint, options: TransportConnectOptions): Promise<Link> {
  const path = fifoPath(endpoint);
  const limits = checkFrameLimits(options.limits);
  const id = randomBytes(16).toString('hex');
  const names = pairNames(path, id);
  // Descriptors not yet handed to a socket (fifoLink takes both).
  const cleanup: number[] = [];
  try {
    const sharedGid = await serverGroup(path, options.waitMs ?? 0);
    for (const pairName of [names.c2s, names.s2c]) {
      native.mkfifo(pairName, 0o600);
      if (sharedGid !== undefined) sharePair(pairName, sharedGid);
    }
    const readFd = openChecked(names.s2c, O_RDONLY);
    cleanup.push(readFd);
    await sendRequest(path, id, options.waitMs ?? 0);
    const writeFd = await openWhenServerReads(names.c2s, path);
    cleanup.length = 0;
    return fifoLink(readFd, writeFd, { transport: 'fifo', address: `fifo://${path}` }, { limits });
  } catch (error) {
    for (const fd of cleanup) closeSync(fd);
    if (error instanceof ProcwireError) throw error;
    throw new ProcwireError(ErrorCode.CONNECT_FAILED, `cannot connect to fifo://${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    unlinkQuietly(names.c2s);
    unlinkQuietly(names.s2c);
  }
}

/**
 * Undefined when the well-known FIFO is this user's (the pair stays 0600);
 * the endpoint's group when another user's server shared it with a group of
 * ours (the pair is shared with that group, so that server can open it).
 */
function serverGroup(path: string, waitMs: number): Promise<number | undefined> {
  return connectWithRetry(`fifo://${path}`, waitMs, async () => {
    const info = lstatSync(path); // ENOENT: no server (yet)
    if (!info.isFIFO()) {
      throw new ProcwireError(
        ErrorCode.INVALID_ENDPOINT,
        `fifo://${path}: ${path} is not a procwire fifo endpoint (it is ${fileKind(info)}, not a FIFO)`,
      );
    }
    try {
      checkFifo(info, path, SHARED_WITH_ME);
    } catch {
      throw new ProcwireError(
        ErrorCode.CONNECT_FAILED,
        `fifo://${path} belongs to ${describeOwner(info.uid)}, who did not share it with a group of this process (mode 0660, group one of ours); not connecting`,
      );
    }
    return info.uid === ownUid() ? undefined : info.gid;
  });
}

/** Gives a fresh pair FIFO the endpoint's group, then opens it to that group: never open to another group. */
function sharePair(path: string, gid: number): void {
  lchownSync(path, -1, gid);
  chmodSync(path, objectMode('group'));
}

/** Writes the request line in one write (atomic: far below PIPE_BUF). */
function sendRequest(path: string, id: string, waitMs: number): Promise<void> {
  return connectWithRetry(`fifo://${path}`, waitMs, async () => {
    const fd = openChecked(path, O_WRONLY, SHARED_WITH_ME); // ENXIO: no server reads it (yet)
    try {
      writeSync(fd, `PWFIFO/1 ${id}\n`);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * The server opens the client's c2s FIFO (`path`) for reading once it took
 * the request; a server that refuses it (its handshake gate is full)
 * removes the pair's names instead.
 */
async function openWhenServerReads(path: string, wellKnown: string): Promise<number> {
  const deadline = Date.now() + TRANSPORT_HANDSHAKE_TIMEOUT_MS;
  let pause = 1;
  for (;;) {
    try {
      return openChecked(path, O_WRONLY);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT')
        throw handshakeLimitRefusal(`fifo://${wellKnown}`, {
          cause: error,
          or: "or it would not take this client's pipes (their owner or mode)",
        });
      if (errnoCode(error) !== 'ENXIO') {
        throw new ProcwireError(
          ErrorCode.CONNECT_FAILED,
          `cannot connect to fifo://${wellKnown}: opening this client's pipe ${path} failed: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      if (Date.now() >= deadline) {
        throw new ProcwireError(
          ErrorCode.CONNECT_FAILED,
          `the server at fifo://${wellKnown} did not take the connection request within ${TRANSPORT_HANDSHAKE_TIMEOUT_MS} ms`,
          {
            cause: error,
          },
        );
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
  }
}

export const fifoTransport: Transport = {
  scheme: 'fifo',
  platforms: ['linux', 'darwin', 'freebsd', 'openbsd', 'sunos', 'aix'],
  peerCredentials: true,
  namedObjects: fifoNamedObjects,
  listen,
  connect,
};
