/**
 * `mq:///name` — POSIX message queues (Linux).
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Who creates: the server creates the queue `/name` (mode 0600) and reads
 *   it; every client creates its own reply queue `/name.<id>` (0600) and
 *   writes to the server's. Each queue message carries one chunk of a frame:
 *   a chunk byte, on the server queue the sender's 16-byte id, then payload,
 *   so frames up to the frame limit travel under the default kernel limits
 *   (10 messages of 8192 bytes per queue); small frames sent in one tick
 *   share a message (chunk byte 2: whole frames back to back), so a burst
 *   costs one mq_send per message, not per frame. A full queue is backpressure:
 *   the writer waits for room (uv_poll on the queue descriptor), nothing is
 *   dropped.
 * - Liveness: message queues cannot tell that a peer died, so each
 *   connection also holds a Unix socket bound by the server in a private
 *   0700 directory (see controlPath). It carries only the client's id and the server's
 *   acknowledgement; when either process dies the kernel closes it. The
 *   same socket is the server's lock: a second server gets ADDRESS_IN_USE
 *   (someone answers), while the queue and socket file left by a crashed
 *   server (connect refused) are removed and created afresh.
 * - Handshake: a control connection's hello line holds a HandshakeGate slot.
 * - Cleanup: the server removes its queue when it closes; a client removes
 *   its reply queue's name as soon as the server has opened it.
 * - Limits: when creating a queue hits a kernel limit, the error names it and
 *   the setting to raise.
 * - Access: queues are exactly 0600. With `access: 'group'` the server queue
 *   is 0660 and the control socket moves from the private directory to
 *   `<temp dir>/procwire-mq-<name>/sock` (directory 0750, socket 0660; see
 *   groupEndpointDir), where clients look when the private one has none. A
 *   client of another user takes such a server only when that directory is
 *   the server's (its uid from SO_PEERCRED), exactly 0750 and of a group of
 *   the client's; its reply queue is then 0660 in the server queue's group,
 *   so the server can open it. A queue name another user holds is refused
 *   (naming the owner), never removed.
 * - Peer credentials: the server's link carries the pid, uid and gid the
 *   kernel recorded for the control socket's client (SO_PEERCRED), and the
 *   reply queue must belong to that uid.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createConnection, createServer, type Socket } from 'node:net';
import { fchmodSync, fchownSync } from 'node:fs';
import { ErrorCode, ProcwireError, type Link, type LinkAcceptor, type PeerInfo } from '@procwire/core';
import { native, type PeerCredentials } from '@procwire/native';
import { invalidEndpoint, type Endpoint } from '../endpoint.js';
import { connectWithRetry } from '../links/connectRetry.js';
import { EarlyArrivals } from '../links/earlyArrivals.js';
import { readFirstLine } from '../handshake/firstLine.js';
import { admitHandshake } from '../handshake/admission.js';
import { HandshakeGate, handshakeLimitRefusal } from '../handshake/gate.js';
import { checkAccess, objectMode, ownedByAnother, ownUid, removeOnExit, unlinkIfOurs } from '../names/ownedNames.js';
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
import { peerCredentialsOf } from '../sockets/peerCredentials.js';
import { listenOnFile, TEMPORARY_BIND_NAME } from '../sockets/socketFile.js';
import { checkFrameLimits } from '../options.js';
import { markPermanent } from '../links/permanent.js';
import { MessageLink } from '../links/messageLink.js';
import { controlName, controlPath, groupControlPath, mqNamedObjects } from './names.js';
import { MqReader, MqWriter } from './ports.js';
import type { TransportConnectOptions, ListenOptions, Transport } from '../transport.js';

const ID_BYTES = 16;
const NAME = /^\/[A-Za-z0-9._-]{1,200}$/;
const HELLO_LINE = /^PWMQ\/1 ([0-9a-f]{32})\n$/;
const ACK = 'OK\n';
/** Longest hello line accepted on the control socket (anything longer is not a procwire client). */
const MAX_HELLO_BYTES = 64;

function queueName(endpoint: Endpoint): string {
  if (endpoint.host) throw invalidEndpoint(endpoint.url, `mq: URLs have no host ("${endpoint.host}"); write mq:///name`);
  if (!NAME.test(endpoint.path)) throw invalidEndpoint(endpoint.url, 'expected mq:///name, a name of letters, digits, ".", "_" or "-"');
  if ([...endpoint.searchParams.keys()].length > 0) throw invalidEndpoint(endpoint.url, 'mq: URLs take no options');
  // The control socket a client may look for, in either mode, and the temporary path listenOnFile binds it at first.
  const base = endpoint.path.slice(1);
  const groupDir = groupEndpointDir('mq', base);
  checkDerivedSocketPaths(endpoint.url, base, [
    join(privateRuntimeDirPath(), controlName(endpoint.path)),
    join(privateRuntimeDirPath(), TEMPORARY_BIND_NAME),
    join(groupDir, 'sock'),
    join(groupDir, TEMPORARY_BIND_NAME),
  ]);
  return endpoint.path;
}

/** Turns a failed mq_open into an error that says which limit and which setting. */
function queueError(error: unknown, name: string, doing: string, side: 'server' | 'client' = 'server'): ProcwireError {
  const code = (error as NodeJS.ErrnoException).code;
  const hint: Record<string, string> = {
    EMFILE: 'the per-user limit on queue memory (RLIMIT_MSGQUEUE, `ulimit -q`; 819200 bytes by default) is used up',
    ENOSPC: 'the system-wide number of queues (/proc/sys/fs/mqueue/queues_max) is reached',
    EINVAL: 'the queue attributes exceed /proc/sys/fs/mqueue/msg_max or msgsize_max',
    EACCES: 'the queue belongs to another user or its mode refuses access',
  };
  const failure = new ProcwireError(
    side === 'client' ? ErrorCode.CONNECT_FAILED : code === 'EACCES' ? ErrorCode.ADDRESS_IN_USE : ErrorCode.LISTEN_FAILED,
    `cannot ${doing} message queue ${name}: ${hint[code ?? ''] ?? (error as Error).message} (${code ?? 'error'})`,
    { cause: error },
  );
  // A limit of this user or system: waiting for the server (waitMs) cannot lift it.
  return code === 'EMFILE' || code === 'ENOSPC' || code === 'EINVAL' || code === 'ENOMEM' ? markPermanent(failure) : failure;
}

/** Closes the queue and refuses it unless `accepts` its owner and mode. */
function checkQueue(mqd: number, name: string, accepts: (info: { uid: number; gid: number; mode: number }) => boolean): void {
  const info = native.fstat(mqd);
  if (!accepts(info)) {
    native.mqClose(mqd);
    throw ownedByAnother(`message queue ${name}`, info.uid);
  }
}

/** A Unix socket's connect, as a promise. */
function connectSocket(path: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Whether a server answers on the control socket at `path`. */
async function answers(path: string): Promise<boolean> {
  try {
    (await connectSocket(path)).destroy();
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the queue a crashed server of this user left (we hold the lock, so
 * it is no live server's); one of another user is refused, never removed.
 */
function removeLeftQueue(name: string): void {
  let mqd: number;
  try {
    mqd = native.mqOpen(name, native.constants.O_RDONLY, 0, 0, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EACCES') {
      throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `message queue ${name} exists and belongs to another user; not using it`, {
        cause: error,
      });
    }
    throw error;
  }
  const owner = native.fstat(mqd).uid;
  native.mqClose(mqd);
  if (owner !== ownUid()) throw ownedByAnother(`message queue ${name}`, owner);
  try {
    native.mqUnlink(name);
  } catch {
    // gone meanwhile
  }
}

async function listen(endpoint: Endpoint, given: ListenOptions): Promise<LinkAcceptor> {
  const name = queueName(endpoint);
  const options = { ...given, limits: checkFrameLimits(given.limits) };
  const access = checkAccess(options.access);
  const control = createServer();
  const connections = new EarlyArrivals<Socket>();
  control.on('connection', connections.arrive);
  const groupDir = access === 'group' ? groupEndpointDir('mq', name.slice(1)) : undefined;
  const lockPath = groupDir ? groupControlPath(name) : controlPath(name);
  let lockIno: number;
  const giveUp = () => {
    control.close();
    unlinkIfOurs(lockPath, lockIno);
    if (groupDir) removeGroupEndpointDir(groupDir);
  };
  try {
    if (groupDir) makeGroupEndpointDir(groupDir);
    lockIno = (await listenOnFile(control, lockPath, objectMode(access))).ino;
  } catch (error) {
    if (error instanceof ProcwireError && error.code === ErrorCode.ADDRESS_IN_USE) {
      throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `cannot listen on mq://${name}: ${error.message}`, { cause: error });
    }
    throw new ProcwireError(ErrorCode.LISTEN_FAILED, `cannot listen on mq://${name}: ${(error as Error).message}`, { cause: error });
  }
  const { O_RDONLY, O_CREAT, O_EXCL } = native.constants;
  let mqd: number;
  try {
    // The same user's server in the other mode holds its lock elsewhere.
    const otherLockPath = otherPath(() => (groupDir ? controlPath(name) : groupControlPath(name)));
    if (otherLockPath !== undefined && (await answers(otherLockPath))) {
      throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `a server is already listening on mq://${name} (at ${otherLockPath})`);
    }
    // We hold the lock, so a queue of that name is a crashed server's.
    removeLeftQueue(name);
  } catch (error) {
    giveUp();
    throw error;
  }
  try {
    mqd = native.mqOpen(name, O_RDONLY | O_CREAT | O_EXCL, objectMode(access), 0, 0);
  } catch (error) {
    giveUp();
    throw queueError(error, name, 'create');
  }
  const messageSize = native.mqGetAttr(mqd).messageSize;
  const links = new Map<string, MessageLink>();
  const reader = new MqReader(
    mqd,
    messageSize,
    (message, length) => {
      if (length < 1 + ID_BYTES) return;
      const id = message.toString('hex', 1, 1 + ID_BYTES);
      links.get(id)?.receive(message[0]!, message.subarray(1 + ID_BYTES, length));
    },
    (error) => failListening(error),
  );
  const queueGid = native.fstat(mqd).gid;
  // Kernel queues outlive their processes and count against the user's limit.
  const removeNames = removeOnExit(() => {
    try {
      native.mqUnlink(name);
    } catch {
      // already gone
    }
    unlinkIfOurs(lockPath, lockIno);
    if (groupDir) removeGroupEndpointDir(groupDir);
  });
  const serving: Serving = { name, options, access, queueGid };
  const gate = new HandshakeGate();
  let closing: Promise<void> | undefined;
  let ended: ((error?: Error) => void) | undefined;
  const close = () => {
    closing ??= (async () => {
      control.close();
      gate.close();
      reader.close();
      native.mqClose(mqd);
      removeNames();
    })();
    return closing;
  };
  // The server queue is every connection's way in: once it cannot be read,
  // no client is served any more. Each link goes with the reason, and the
  // acceptor ends with it, so the server closes instead of looking alive.
  const failListening = (error: Error) => {
    if (closing) return;
    const reason = new ProcwireError(
      ErrorCode.LISTEN_FAILED,
      `mq://${name}: reading the server queue failed, so no client can be served: ${error.message}`,
      {
        cause: error,
      },
    );
    for (const link of links.values()) link.destroy(reason);
    void close().then(() => ended?.(reason));
  };
  return {
    url: `mq://${name}`,
    start(onLink, onEnd) {
      ended = onEnd;
      connections.start((socket: Socket) => {
        socket.on('error', () => {});
        const credentials = peerCredentialsOf(socket);
        const peer: PeerInfo = { transport: 'mq', address: `mq://${name} (pid ${credentials?.pid ?? 'unknown'})`, ...credentials };
        // Until its hello line arrived and its reply queue is open, a
        // connection holds a gate slot: a peer that connects and says
        // nothing is closed at the deadline, and only so many wait at once.
        const slot = admitHandshake(gate, peer, options, () => socket.destroy());
        if (!slot) return;
        socket.once('close', slot.release);
        readFirstLine(socket, MAX_HELLO_BYTES, (line) => {
          slot.release();
          const match = HELLO_LINE.exec(line);
          if (!match) return socket.destroy();
          let link: MessageLink | undefined;
          try {
            link = acceptClient(serving, match[1]!, socket, (id) => links.delete(id));
          } catch {
            // Thrown here it would end the server; this client goes instead.
          }
          if (!link) return socket.destroy();
          links.set(match[1]!, link);
          socket.write(ACK);
          onLink(link);
        });
      });
      reader.start();
    },
    close,
  };
}

interface Serving {
  readonly name: string;
  readonly options: ListenOptions;
  readonly access: 'owner' | 'group';
  /** The server queue's group: the group a client of another user shares its reply queue with. */
  readonly queueGid: number;
}

function acceptClient(serving: Serving, id: string, socket: Socket, forget: (id: string) => void): MessageLink | undefined {
  const { name, options, access, queueGid } = serving;
  const replyName = `${name}.${id}`;
  const credentials = peerCredentialsOf(socket);
  const uid = ownUid();
  let replyMqd: number;
  try {
    replyMqd = native.mqOpen(replyName, native.constants.O_WRONLY, 0, 0, 0);
    // The reply queue must be the connecting process's (no pointing the
    // server at another client's queue), and of this user unless shared
    // with the server queue's group in group mode.
    checkQueue(replyMqd, replyName, (info) => {
      if (credentials !== undefined && info.uid !== credentials.uid) return false;
      if (info.uid === uid) return true;
      return access === 'group' && (info.mode & 0o777) === objectMode('group') && info.gid === queueGid;
    });
  } catch {
    return undefined;
  }
  const peer: PeerInfo = { transport: 'mq', address: `mq://${name} (client ${id.slice(0, 8)})`, ...credentials };
  let link: MessageLink;
  const writer = new MqWriter(
    replyMqd,
    () => link.onWriterDrain(),
    (error) => link.destroy(error),
  );
  try {
    link = new MessageLink({
      mechanism: 'message queue',
      peer,
      limits: options.limits,
      writer,
      prefix: Buffer.alloc(0),
      messageSize: native.mqGetAttr(replyMqd).messageSize,
      control: socket,
      release: () => {
        forget(id);
        native.mqClose(replyMqd);
      },
    });
  } catch (error) {
    // Its watcher goes before its descriptor: libuv must never poll a closed one.
    writer.close();
    native.mqClose(replyMqd);
    throw error;
  }
  return link;
}

/**
 * Connects to the server's control socket: the private one of this user's
 * owner-mode server, else a group-mode server's. A server of another user
 * is taken only from a group endpoint directory that is verifiably its.
 */
async function reachServer(name: string, waitMs: number): Promise<{ socket: Socket; serverUid: number | undefined }> {
  const { reached: socket, viaGroup } = await connectWithRetry(`mq://${name}`, waitMs, () =>
    reachPrivateOrGroup(controlPath(name), groupControlPath(name), connectSocket),
  );
  const credentials: PeerCredentials | undefined = peerCredentialsOf(socket);
  const refusal = credentials && unsharedServer(`mq://${name}`, groupEndpointDir('mq', name.slice(1)), credentials.uid, viaGroup);
  if (refusal) {
    socket.destroy();
    throw refusal;
  }
  return { socket, serverUid: credentials?.uid };
}

async function connect(endpoint: Endpoint, given: TransportConnectOptions): Promise<Link> {
  const name = queueName(endpoint);
  const options = { ...given, limits: checkFrameLimits(given.limits) };
  const id = randomBytes(ID_BYTES);
  const replyName = `${name}.${id.toString('hex')}`;
  const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = native.constants;
  const { socket, serverUid } = await reachServer(name, options.waitMs ?? 0);
  // A server that refuses (its handshake gate is full) resets the socket;
  // the 'close' below reports it, an unheard 'error' would crash us.
  socket.on('error', () => {});
  const uid = ownUid();
  let replyMqd: number | undefined;
  let serverMqd: number | undefined;
  try {
    try {
      serverMqd = native.mqOpen(name, O_WRONLY, 0, 0, 0);
      checkQueue(serverMqd, name, (info) => info.uid === (serverUid ?? uid));
    } catch (error) {
      if (error instanceof ProcwireError) throw error;
      throw new ProcwireError(ErrorCode.CONNECT_FAILED, `cannot open message queue ${name}: ${(error as Error).message}`, { cause: error });
    }
    try {
      replyMqd = native.mqOpen(replyName, O_RDONLY | O_CREAT | O_EXCL, 0o600, 0, 0);
      // Another user's server writes replies through the group it shares its own queue with.
      if (serverUid !== undefined && serverUid !== uid) {
        fchownSync(replyMqd, -1, native.fstat(serverMqd).gid);
        fchmodSync(replyMqd, objectMode('group'));
      }
    } catch (error) {
      throw queueError(error, replyName, 'create', 'client');
    }
    socket.write(`PWMQ/1 ${id.toString('hex')}\n`);
    await new Promise<void>((resolve, reject) => {
      let answer = '';
      socket.on('data', function onData(chunk: Buffer) {
        answer += chunk.toString('latin1');
        if (answer === ACK) {
          socket.off('data', onData);
          resolve();
        } else if (!ACK.startsWith(answer))
          reject(new ProcwireError(ErrorCode.PROTOCOL, `mq://${name} answered the connection request wrongly`));
      });
      const refused = () =>
        reject(handshakeLimitRefusal(`mq://${name}`, { or: "or it could not open this client's reply queue, or it is closing" }));
      if (socket.closed) refused();
      else socket.once('close', refused);
    });
  } catch (error) {
    socket.destroy();
    if (replyMqd !== undefined) native.mqClose(replyMqd);
    if (serverMqd !== undefined) native.mqClose(serverMqd);
    throw error;
  } finally {
    // The server has opened it (or never will): the name is no longer needed.
    try {
      native.mqUnlink(replyName);
    } catch {
      // not created
    }
  }
  const mqdIn = replyMqd;
  const mqdOut = serverMqd;
  let link: MessageLink;
  const writer = new MqWriter(
    mqdOut,
    () => link.onWriterDrain(),
    (error) => link.destroy(error),
  );
  const reader = new MqReader(
    mqdIn,
    native.mqGetAttr(mqdIn).messageSize,
    (message, length) => {
      if (length >= 1) link.receive(message[0]!, message.subarray(1, length));
    },
    (error) => link.destroy(error),
  );
  try {
    link = new MessageLink({
      mechanism: 'message queue',
      peer: { transport: 'mq', address: `mq://${name}` },
      limits: options.limits,
      writer,
      prefix: id,
      messageSize: native.mqGetAttr(mqdOut).messageSize,
      control: socket,
      release: () => {
        reader.close();
        native.mqClose(mqdIn);
        native.mqClose(mqdOut);
      },
    });
  } catch (error) {
    // The link never existed: nothing may stay open (watchers before their descriptors).
    writer.close();
    reader.close();
    socket.destroy();
    native.mqClose(mqdIn);
    native.mqClose(mqdOut);
    throw error;
  }
  reader.start();
  return link;
}

export const mqueueTransport: Transport = {
  scheme: 'mq',
  platforms: ['linux'],
  peerCredentials: true,
  namedObjects: mqNamedObjects,
  listen,
  connect,
};
