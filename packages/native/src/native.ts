/**
 * Everything the native addon exports, with its contract. This is the only
 * declaration of the addon; the C++ in src/posix/ implements it.
 *
 * The addon is mechanism only: non-blocking system calls and readiness
 * waiting. Timeouts, retries, framing, naming and defaults belong to the
 * TypeScript transports.
 *
 * Conventions shared by every function:
 *
 * - Nothing blocks. Message-queue descriptors are always non-blocking and
 *   their send and receive never wait; `open` blocks only if the caller
 *   leaves out `O_NONBLOCK` (a FIFO would then wait for its peer).
 * - Every descriptor is created close-on-exec, so it reaches a child only when
 *   passed explicitly (child_process `stdio`).
 * - EINTR is retried inside the addon and never surfaces.
 * - Arguments are checked before any system call, with Node's error codes:
 *   a wrong type is a `TypeError` with `code: 'ERR_INVALID_ARG_TYPE'` (a string
 *   holding a NUL byte: `'ERR_INVALID_ARG_VALUE'`); a number that is not an
 *   integer in range is a `RangeError` with `code: 'ERR_OUT_OF_RANGE'`.
 * - A failed system call throws a {@link NativeSystemError}, shaped like
 *   Node's own `fs` errors.
 *
 * Linux is the reference platform. Elsewhere on POSIX the `mq*` functions
 * throw ENOSYS and `setParentDeathSignal` returns false. On Windows the
 * addon is a separate build (cross-built with mingw in CI and run under
 * Wine, or built with node-gyp and Visual Studio) that offers the Win32
 * primitives of windows.ts; see `windowsNative`.
 */

/**
 * A failed system call, shaped like the errors of Node's `fs` and `net`:
 * `message` is `"EACCES: permission denied, mq_open '/calc'"`, `code` the
 * errno name (`'UNKNOWN'` for one libuv does not know), `errno` the
 * **negative** errno value as in Node (`err.errno === -constants.EACCES`),
 * `syscall` the failing call, and `path` the file or queue name where there is one.
 */
export interface NativeSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
}

/** What {@link NativeBinding.fstat} reports. */
export interface FdStat {
  /** `st_mode`: file type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Exact up to 2^53, like `fs.Stats` without bigint. */
  ino: number;
  dev: number;
  /** `st_size` (for a message queue on Linux, the bytes queued). */
  size: number;
  isFifo: boolean;
  isSocket: boolean;
}

/** What {@link NativeBinding.mqGetAttr} reports. */
export interface MqAttributes {
  maxMessages: number;
  messageSize: number;
  currentMessages: number;
  /** `mq_flags`: `O_NONBLOCK` for every queue this addon opened. */
  flags: number;
}

/**
 * Called on the JavaScript thread when the descriptor is ready.
 * `events` holds the ready `constants.POLL_*` bits. `errno` is 0, or a
 * negative errno value (Node's convention) when polling failed: libuv reports
 * any error condition of the descriptor (`POLLERR`, e.g. a pipe whose read
 * end was closed) as EBADF, `events` is then 0, and the watcher has stopped
 * (call `watch` again to resume). An exception thrown here is an uncaught
 * exception, as in any Node event callback.
 */
export type FdReadyCallback = (events: number, errno: number) => void;

/**
 * Readiness of one descriptor, waited for with a libuv poll handle (epoll on
 * Linux): callbacks run on the JavaScript thread and no thread-pool thread
 * ever blocks.
 *
 * - Creating a watcher makes the descriptor non-blocking (libuv does that).
 * - One watcher per descriptor and thread: a second throws EEXIST
 *   (`syscall: 'uv_poll_init'`). A regular file throws EPERM.
 * - The watcher keeps the event loop alive only while it watches.
 * - Close the watcher before the descriptor. `close` and `mqClose` of this
 *   addon do that themselves; after `fs.closeSync` on a watched descriptor
 *   libuv may abort the process.
 * - `close()` from inside the callback is safe.
 * - A watcher not closed is closed when its thread's environment ends, so a
 *   worker_thread exits cleanly; its callback stays referenced until then
 *   (or until the watcher, stopped and unreachable, is garbage-collected).
 */
export interface FdWatcher {
  /**
   * Starts watching, or changes what is watched: a combination of
   * `constants.POLL_READABLE`, `POLL_WRITABLE` and `POLL_DISCONNECT`; 0 stops.
   * Throws `ERR_INVALID_STATE` once closed.
   */
  watch(events: number): void;
  /** Stops and releases the uv_poll handle (does not close the fd). Idempotent. */
  close(): void;
}

export interface FdWatcherConstructor {
  new (fd: number, onReady: FdReadyCallback): FdWatcher;
}

/** What {@link NativeBinding.segmentInfo} reports. */
export interface SegmentInfo {
  size: number;
  /** True when neither side can shrink or grow the segment any more. */
  sealed: boolean;
}

/** What {@link NativeBinding.socketPeerCredentials} reports. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * One side of a connection's two shared-memory rings (one per direction), in
 * a segment of exactly `2 * (256 + capacity)` bytes: ring 0 carries client to
 * server, ring 1 server to client. The ring format and its trust rules are
 * described in src/common/ring.h. Each side keeps its cursors privately and
 * checks everything it reads from the segment: a peer that writes nonsense
 * there makes these methods throw EPROTO (impossible cursor or record
 * length) or EMSGSIZE (a record above `maxFrameBytes`), never read or write
 * outside the segment.
 *
 * Wake-ups: a side about to sleep calls `sleep()`; the peer's next `write`
 * (or read that frees room) then rings this side's eventfd once. A busy
 * connection makes no system call per message.
 */
export interface ShmChannel {
  /**
   * Writes `frame` from `offset` on; returns the new offset (== offset when
   * the ring has no room). A frame whose record fits the ring is written
   * whole or not at all; a larger one in pieces. Rings the peer if it sleeps.
   */
  write(frame: Uint8Array, offset: number): number;
  /** As `write`, for one frame given as up to 256 Uint8Arrays back to back (copied into the ring from where they are). */
  writeParts(parts: readonly Uint8Array[], offset: number): number;
  /**
   * Writes frames[start..] (up to 256 of them) as whole records while they
   * fit, publishing them together; returns how many were written. Each frame
   * must fit the ring on its own (RangeError otherwise).
   */
  writeFrames(frames: readonly Uint8Array[], start: number): number;
  /**
   * Copies the whole frames waiting in the ring that fit into
   * `out[outOffset..]`, back to back, and stores each one's end offset in
   * `ends`; returns how many. 0 when the next frame is not complete or does
   * not fit (see `nextLength`).
   */
  readWhole(out: Uint8Array, outOffset: number, ends: Uint32Array): number;
  /** The next frame's length, or -3 when its length has not arrived. */
  nextLength(): number;
  /** Copies what has arrived of the next frame into `out` (exactly its length) from `offset`; returns the new offset. */
  readPiece(out: Uint8Array, offset: number): number;
  hasInput(): boolean;
  /** Free bytes in the outbound ring. */
  room(): number;
  /** Asks the peer to ring on new data (and when `wantRoom` bytes are free); false when there is work already. */
  sleep(wantRoom: number): boolean;
  /** Withdraws the requests of `sleep`; with `silenceBell`, also resets this side's eventfd (after it rang). */
  awake(silenceBell: boolean): void;
  /**
   * Busy-waits up to `maxMicros` for input (or `wantRoom` free bytes); blocks
   * the thread that long at most. With `yieldCpu`, calls sched_yield between
   * looks, so a peer sharing the only CPU can run.
   */
  spin(maxMicros: number, wantRoom: number, yieldCpu: boolean): boolean;
  /** Unmaps the segment (descriptors are the caller's to close). Methods then throw ERR_INVALID_STATE. */
  close(): void;
}

export interface ShmChannelConstructor {
  /** Maps the segment `fd` (which may be closed afterwards). `side` 0 is the server, 1 the client. */
  new (fd: number, side: 0 | 1, capacity: number, maxFrameBytes: number, ownBellFd: number, peerBellFd: number): ShmChannel;
}

/** Numbers from this platform's headers. */
export interface NativeConstants {
  readonly O_RDONLY: number;
  readonly O_WRONLY: number;
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_NONBLOCK: number;
  readonly O_NOFOLLOW: number;
  /** Readiness bits of {@link FdWatcher} (libuv's UV_READABLE, UV_WRITABLE, UV_DISCONNECT). */
  readonly POLL_READABLE: number;
  readonly POLL_WRITABLE: number;
  readonly POLL_DISCONNECT: number;
  /** errno values, positive as in `os.constants.errno`; `NativeSystemError.errno` is their negation. */
  readonly EAGAIN: number;
  readonly ENXIO: number;
  readonly EEXIST: number;
  readonly ENOENT: number;
  readonly EACCES: number;
  readonly EINTR: number;
  readonly EBADF: number;
  readonly EINVAL: number;
  readonly EMSGSIZE: number;
  readonly EPIPE: number;
  readonly ENOSYS: number;
  /** Linux files holding the default and the ceiling of mq_open's attributes ('' elsewhere). */
  readonly MQ_DEFAULT_MAX_MESSAGES_PATH: string;
  readonly MQ_DEFAULT_MESSAGE_SIZE_PATH: string;
  readonly MQ_MAX_MESSAGES_PATH: string;
  readonly MQ_MAX_MESSAGE_SIZE_PATH: string;
}

export interface NativeBinding {
  /** pipe2(O_CLOEXEC): [readFd, writeFd]. Both ends block until an FdWatcher makes them non-blocking. */
  pipe(): [number, number];
  /**
   * mkfifo(path, mode). The mode is applied exactly, whatever the umask: the
   * FIFO is created 0400, opened without following symlinks and fchmod-ed.
   * EEXIST if the path exists. `mode` is an integer in 0..0o7777.
   */
  mkfifo(path: string, mode: number): void;
  /**
   * open(path, flags | O_CLOEXEC, mode) -> fd, flags from `constants`. The
   * umask applies to `mode` as with open(2). Pass O_NONBLOCK for a FIFO:
   * without it, open waits (on the JavaScript thread) for the other end, and
   * with it, a write-only open with no reader fails with ENXIO.
   */
  open(path: string, flags: number, mode: number): number;
  /** close(fd), after closing any FdWatcher on it. EINTR counts as closed. */
  close(fd: number): void;
  /** fstat basics for owner checks. */
  fstat(fd: number): FdStat;
  /**
   * Linux: prctl(PR_SET_PDEATHSIG, signal), so this process gets `signal`
   * when its parent dies; 0 clears it. Returns false where unsupported. If the
   * parent is already gone nothing is ever sent: compare `process.ppid` with
   * the expected parent afterwards.
   */
  setParentDeathSignal(signal: number): boolean;
  /**
   * mq_open(name, flags | O_CLOEXEC | O_NONBLOCK, mode, attr) -> mqd (on Linux
   * a file descriptor). `name` is `/something` with no other slash. The
   * attributes apply only with O_CREAT; 0 and 0 mean the system defaults
   * (`MQ_DEFAULT_*_PATH`), and values above the system ceilings fail with
   * EINVAL unless the process has CAP_SYS_RESOURCE. A queue this call
   * creates gets exactly `mode` under any umask (created 0400 with O_EXCL,
   * then fchmod-ed); with O_CREAT but no O_EXCL an existing queue is opened
   * unchanged.
   */
  mqOpen(name: string, flags: number, mode: number, maxMessages: number, messageSize: number): number;
  /**
   * mq_send without waiting: true when queued, false when the queue is full
   * (EAGAIN); throws otherwise (EMSGSIZE when `data` exceeds the message
   * size). `priority` is below 32768 on Linux (EINVAL otherwise); higher is
   * received first.
   */
  mqSend(mqd: number, data: Uint8Array | ArrayBufferView, priority: number): boolean;
  /**
   * mq_receive into `into` without waiting: the message's length, or -1 when
   * the queue is empty (EAGAIN). `into` must hold at least the queue's
   * message size (EMSGSIZE otherwise).
   */
  mqReceive(mqd: number, into: Uint8Array | ArrayBufferView): number;
  mqGetAttr(mqd: number): MqAttributes;
  /** mq_close, after closing any FdWatcher on the descriptor. The queue lives on until unlinked. */
  mqClose(mqd: number): void;
  /** mq_unlink(name): the name goes now, the queue when its last descriptor closes. */
  mqUnlink(name: string): void;
  /** Readiness waiting on a descriptor with uv_poll (never a blocked thread-pool thread). */
  FdWatcher: FdWatcherConstructor;

  // --- Byte-range locks of an open file description (src/posix/filelock.cc) ---
  //
  // Linux OFD locks (fcntl F_OFD_SETLK, F_OFD_GETLK). A lock belongs to one
  // open(2) of the file, not to the process: locks taken through two opens
  // of one file conflict even inside one process, while every descriptor
  // dup-ed from one open shares its locks. The kernel drops a lock when the
  // last descriptor of its open closes, so a holder killed by any signal
  // (SIGKILL included) gives its locks back. The locks are advisory: they
  // bind only callers that take them. Nothing here waits for a lock.
  // Ranges are `start` (0 .. 2^53-1) and `length` (1 .. 2^53-1) bytes; the
  // bytes may lie beyond the end of the file. Where F_OFD_SETLK does not
  // exist (macOS, the BSDs) the arguments are checked, then every call
  // throws ENOSYS (`syscall: 'fcntl'`): process-owned POSIX locks would
  // break both properties above.

  /**
   * Tries to take an exclusive (write) lock on the range: true when taken
   * (or already held through this same open), false when another open holds
   * a lock on any byte of it (EAGAIN/EACCES). `fd` must be open for writing
   * (EBADF otherwise). Taking a lock over a range partly held through the
   * same open replaces and merges those locks, as fcntl does.
   */
  fileLockTry(fd: number, start: number, length: number): boolean;
  /**
   * As {@link NativeBinding.fileLockTry} with a shared (read) lock, which
   * conflicts only with exclusive locks of other opens. `fd` must be open
   * for reading.
   */
  fileLockTryShared(fd: number, start: number, length: number): boolean;
  /**
   * Releases whatever this open holds on the range (exclusive or shared);
   * bytes it does not hold are ignored. Closing the last descriptor of the
   * open releases everything without this call.
   */
  fileUnlock(fd: number, start: number, length: number): void;
  /**
   * The first lock held through *another* open that conflicts with an
   * exclusive lock on the range, or null when the range is free for this
   * open. `length` is Infinity for a lock "to the end of the file".
   * Locks of `fd`'s own open are never reported.
   */
  fileLockQuery(fd: number, start: number, length: number): { start: number; length: number; shared: boolean } | null;

  // --- Shared memory and descriptor passing (the shm: transport) ---

  /**
   * Linux: an anonymous shared-memory segment of `bytes` zero bytes
   * (memfd_create), sealed so that its size can never change again
   * (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL): a peer it is handed to can
   * map it without fear of SIGBUS. ENOSYS elsewhere.
   */
  createSegment(bytes: number): number;
  /** fstat size and whether the size is sealed (the check before mapping a segment a peer sent). */
  segmentInfo(fd: number): SegmentInfo;
  /** Linux: a non-blocking eventfd (a kernel counter epoll can wait on), the doorbell of a sleeping peer. ENOSYS elsewhere. */
  createEventFd(): number;
  /** One end of a connection's pair of shared-memory rings; see {@link ShmChannel}. */
  ShmChannel: ShmChannelConstructor;
  /**
   * A listening Unix SOCK_SEQPACKET socket bound at `path` (non-blocking,
   * close-on-exec). The file's mode follows the umask: bind in a private directory.
   */
  seqpacketListen(path: string, backlog: number): number;
  /** A connected Unix SOCK_SEQPACKET socket: ECONNREFUSED when nobody listens, ENOENT without a file, EAGAIN when the backlog is full. */
  seqpacketConnect(path: string): number;
  /** accept4 -> a non-blocking, close-on-exec descriptor, or -1 when no connection waits. */
  socketAccept(fd: number): number;
  /**
   * sendmsg of one message with up to 8 descriptors (SCM_RIGHTS); true when
   * sent, false when the socket is full (EAGAIN). The descriptors stay open here.
   */
  socketSend(fd: number, data: Uint8Array, fds: readonly number[]): boolean;
  /**
   * recvmsg of one message into `into`: `bytes` 0 means the peer closed.
   * null when nothing is waiting. Received descriptors are close-on-exec and
   * now belong to the caller. A message longer than `into` (or with too many
   * descriptors) throws EMSGSIZE, its descriptors closed.
   */
  socketReceive(fd: number, into: Uint8Array): { bytes: number; fds: number[] } | null;
  /** SO_PEERCRED: the peer process as the kernel recorded it at connect. ENOSYS where unsupported. */
  socketPeerCredentials(fd: number): PeerCredentials;
  readonly constants: NativeConstants;
}
