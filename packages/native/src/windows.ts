/**
 * Everything the Windows build of the addon exports (src/win/), with its
 * contract. This is the only declaration of the Windows addon; src/native.ts
 * declares the POSIX one. Nothing here exists on Linux or macOS.
 *
 * The addon is mechanism only: the primitives Node lacks on Windows.
 * Framing, chunking, naming, handshakes and timeouts belong to the
 * TypeScript transports (`npipe:`, `mailslot:`).
 *
 * Conventions shared by every export:
 *
 * - Names are the part after the fixed prefix: `MailslotReader('calc', ...)`
 *   is `\\.\mailslot\calc`, `PipeListener('calc', ...)` is `\\.\pipe\calc`;
 *   each object's `path` is the full name.
 * - Every mailslot and pipe instance the addon creates is owned by the
 *   current user and admits only that user: its DACL is protected and holds
 *   one ACE, GENERIC_ALL for the SID of the process token
 *   (`O:<sid>D:P(A;;GA;;;<sid>)`). SYSTEM and Administrators are not admitted.
 * - Arguments are checked before any Win32 call, with Node's error codes:
 *   a wrong type is a `TypeError` with `code: 'ERR_INVALID_ARG_TYPE'`; an
 *   empty name, a name with a NUL or (pipes) a backslash,
 *   `'ERR_INVALID_ARG_VALUE'`; a number out of range, a `RangeError` with
 *   `'ERR_OUT_OF_RANGE'`. A call on a closed object throws `ERR_INVALID_STATE`.
 * - A failed Win32 call throws a {@link WindowsSystemError}.
 * - Objects that wait in the background (MailslotReader, PipeListener) do it
 *   on a thread of their own and call back on the JavaScript thread. While
 *   open they keep the event loop alive, like a listening server, unless
 *   `unref()`ed, and they are not garbage-collected. `close()` is
 *   idempotent, safe from inside their callbacks, and no callback runs after
 *   it returns. One left open when its thread's environment ends (the process
 *   exits, a worker_thread ends) is closed then. An exception thrown by a
 *   callback is an uncaught exception, as in any Node event callback.
 *
 * Verified under Wine 8.0 in node.exe 20 and 22 (test/windows/native/);
 * what Wine cannot show is listed in src/win/README.md.
 */
import type { ShmChannel } from './native.js';

/**
 * A failed Win32 call, shaped like Node's own system errors on Windows:
 * `message` is `"EEXIST: file already exists, CreateMailslotW '\\.\mailslot\calc' (Windows error 183)"`.
 * `code` is the errno name for the Win32 errors that have one
 * (ERROR_ALREADY_EXISTS: `'EEXIST'`, ERROR_FILE_NOT_FOUND: `'ENOENT'`,
 * ERROR_ACCESS_DENIED: `'EACCES'`, ERROR_INVALID_PARAMETER: `'EINVAL'`,
 * ERROR_SHARING_VIOLATION and ERROR_PIPE_BUSY: `'EBUSY'`, ERROR_BROKEN_PIPE
 * and ERROR_NO_DATA: `'EPIPE'`, ...), else the Win32 name
 * (`'ERROR_GEN_FAILURE'`), else `'UNKNOWN'`. `errno` is libuv's number for
 * that code, as in Node's `fs` errors on Windows
 * (`util.getSystemErrorName(err.errno) === err.code`; -4094, UV_UNKNOWN, for
 * a Win32 name). `winError` is the `GetLastError()` value itself.
 */
export interface WindowsSystemError extends Error {
  code: string;
  errno: number;
  winError: number;
  syscall: string;
  path?: string;
}

/** What {@link WindowsBinding.platformInfo} reports. */
export interface WindowsPlatformInfo {
  /** `"10.0.19045"`: the version the kernel runs (RtlGetVersion), whatever node.exe's manifest declares. */
  windowsVersion: string;
  major: number;
  minor: number;
  build: number;
  /** Wine's version (`"8.0"`), or null on Windows. Tests branch on it for Wine's known differences. */
  wineVersion: string | null;
  pid: number;
}

/** Win32 error numbers, to compare with {@link WindowsSystemError.winError}. */
export interface WindowsConstants {
  readonly ERROR_FILE_NOT_FOUND: number;
  readonly ERROR_ACCESS_DENIED: number;
  readonly ERROR_INVALID_HANDLE: number;
  readonly ERROR_INVALID_PARAMETER: number;
  readonly ERROR_ALREADY_EXISTS: number;
  readonly ERROR_BROKEN_PIPE: number;
  readonly ERROR_SEM_TIMEOUT: number;
  readonly ERROR_PIPE_BUSY: number;
  readonly ERROR_NO_DATA: number;
  readonly ERROR_PIPE_NOT_CONNECTED: number;
  readonly ERROR_MORE_DATA: number;
  readonly ERROR_PIPE_CONNECTED: number;
}

/** Called with each message, a new Buffer of its exact bytes (possibly empty). */
export type MailslotMessageCallback = (message: Buffer) => void;

/** Called once when a background object fails and has closed itself. */
export type WindowsErrorCallback = (error: WindowsSystemError) => void;

/**
 * The reading end of a mailslot, `\\.\mailslot\<name>`: one-way, and each
 * message written is one message read (boundaries are kept).
 *
 * - The reader creates the mailslot and is its only reader: a second reader
 *   of a name in use throws EEXIST (`syscall: 'CreateMailslotW'`). The name
 *   exists while the reader is open.
 * - Messages from one writer arrive in the order written; messages of
 *   several writers interleave whole.
 * - A message longer than `maxMessageSize` is never delivered: Windows
 *   refuses it to the writer; Wine accepts it and the reader drops it.
 * - Back-pressure: at most 1,024 messages (and 16 MiB) wait for JavaScript
 *   inside the addon; beyond that the reader stops reading until JavaScript
 *   has taken half, and messages stay in the mailslot. Under Wine a full
 *   mailslot (a Unix socket buffer of 208 KiB: 278 one-byte messages fill
 *   it, about 204 of ten bytes) blocks its writers until three quarters of it has been read, so a
 *   writer on the *same* thread as a reader whose callbacks cannot run
 *   deadlocks once it writes about 1,100 to 1,300 small messages in one go
 *   (1,024 held here, then a full mailslot).
 * - `close()` may take up to a second in the worst case (it normally ends
 *   the reading thread at once by writing itself a message).
 * - Unexpected read failures close the reader and go to `onError` (without
 *   one, they are thrown as an uncaught exception).
 */
export interface MailslotReader {
  /** `\\.\mailslot\<name>`. */
  readonly path: string;
  /** Stops reading and closes the mailslot; messages not yet delivered are dropped. Idempotent. */
  close(): void;
  /** Keeps the event loop alive while the reader is open (the default). */
  ref(): void;
  /** Lets the process exit while the reader is open. */
  unref(): void;
  /** The mailslot's owner and DACL as Windows reports them (GetSecurityInfo), in SDDL. Throws ERR_INVALID_STATE once closed. */
  securityDescriptor(): string;
}

export interface MailslotReaderConstructor {
  /**
   * Creates `\\.\mailslot\<name>` (`name` up to 240 characters; backslashes
   * make pseudo-directories) for messages of up to `maxMessageSize` bytes
   * (1 .. 16 MiB; the reader keeps a buffer that large) and starts reading.
   */
  new (name: string, maxMessageSize: number, onMessage: MailslotMessageCallback, onError?: WindowsErrorCallback): MailslotReader;
}

/**
 * A writer to a mailslot another reader (in any process of the same user)
 * created. Writers hold no lock: several may write to one mailslot.
 *
 * Peer death is invisible here: under Wine a write to a mailslot whose
 * reader has closed still succeeds, and the name then stays taken (a new
 * reader fails with EEXIST, a new writer with EBUSY) until the last writer
 * closes. A transport must detect a vanished reader some other way.
 */
export interface MailslotWriter {
  /** `\\.\mailslot\<name>`. */
  readonly path: string;
  /**
   * Writes `data` as one message (WriteFile). Never blocks on Windows; under
   * Wine it blocks while the mailslot is full. Throws on failure: under Wine
   * a message above 212,960 bytes fails with `ERROR_GEN_FAILURE`; Windows
   * refuses one above the reader's `maxMessageSize`. ERR_INVALID_STATE once closed.
   */
  write(data: Uint8Array | DataView): void;
  /** Closes the handle. Idempotent. */
  close(): void;
}

export interface MailslotWriterConstructor {
  /** Opens `\\.\mailslot\<name>` for writing: ENOENT when no reader has created it. */
  new (name: string): MailslotWriter;
}

/**
 * Called with each connected client: a C runtime descriptor of node.exe
 * that owns the server end of the connection. Wrap it at once with
 * `new net.Socket({ fd, readable: true, writable: true })`; destroying the
 * socket closes the connection. A descriptor not wrapped must be closed with
 * `fs.closeSync(fd)`.
 */
export type PipeConnectionCallback = (fd: number) => void;

/**
 * The server of a named pipe, `\\.\pipe\<name>`, that Node's
 * `net.createServer().listen(path)` cannot be: every instance admits only
 * the current user and refuses remote clients (PIPE_REJECT_REMOTE_CLIENTS).
 * Clients connect with Node's own `net.connect(path)`.
 *
 * - Byte mode, 64 KiB buffers each way, unlimited instances: as libuv's.
 * - The name must be free: the first instance is created with
 *   FILE_FLAG_FIRST_PIPE_INSTANCE, and a name in use throws EADDRINUSE
 *   (`syscall: 'CreateNamedPipeW'`, `winError` 5), as `listen()` does.
 *   Wine ignores that flag: there a second listener succeeds and the two
 *   share the clients.
 * - One instance always waits for the next client; a client that finds none
 *   free waits (Node's client retries for 30 s).
 * - `close()` stops accepting; connections already handed over stay open.
 * - Failures to accept close the listener and go to `onError` (without one,
 *   they are thrown as an uncaught exception); a connection that cannot get
 *   a descriptor (EMFILE) is closed and reported to `onError` without
 *   closing the listener.
 * - Like any Node named pipe, a connection has no half-close: a peer's
 *   `end()` is seen as the connection closing.
 */
export interface PipeListener {
  /** `\\.\pipe\<name>`. */
  readonly path: string;
  /** Stops accepting and closes the instance waiting for a client. Idempotent. */
  close(): void;
  ref(): void;
  unref(): void;
  /** The owner and DACL Windows reported for the first instance when the listener was created, in SDDL. */
  securityDescriptor(): string;
}

export interface PipeListenerConstructor {
  /** Creates the first instance of `\\.\pipe\<name>` (`name` up to 256 characters, no backslash) and starts accepting. */
  new (name: string, onConnection: PipeConnectionCallback, onError?: WindowsErrorCallback): PipeListener;
}

/**
 * One end of a connection's pair of shared-memory rings (the `shm:`
 * transport), over the same ring code as the POSIX ShmChannel
 * (src/common/ring.h): a named file mapping `Local\procwire-shm-<name>` of
 * `2 * (256 + capacity)` bytes (ring 0 carries client -> server, ring 1
 * server -> client) and two named auto-reset events as bells,
 * `Local\procwire-shm-<name>-s` (wakes the server, side 0) and `-c` (wakes
 * the client, side 1). The creating side gives all three the owner-only
 * descriptor; objects of the same name live while any process holds a handle.
 *
 * The methods are those of the POSIX `ShmChannel` (src/native.ts), with
 * the same arguments, results and argument errors. Differences: a ring the
 * peer corrupted throws a {@link WindowsSystemError} with `winError` 13
 * (ERROR_INVALID_DATA; `code` `'EMSGSIZE'` for a record above the frame
 * limit) where POSIX throws EPROTO/EMSGSIZE; `awake(true)` resets this side's
 * event (ResetEvent); `spin(..., yieldCpu)` yields with SwitchToThread;
 * `close()` unmaps the view and closes the mapping and both event handles.
 */
interface WindowsShmChannel extends ShmChannel {
  /** `Local\procwire-shm-<name>`. */
  readonly path: string;
  /** The owner and DACL of the mapping and both events as Windows reports them (GetSecurityInfo), in SDDL. */
  securityDescriptors(): { mapping: string; serverBell: string; clientBell: string };
}

interface WindowsShmChannelConstructor {
  /**
   * `create: true` creates the mapping (zero-filled) and both events,
   * owner-only; any of the three names already in use throws EEXIST
   * (`syscall` 'CreateFileMappingW' or 'CreateEventW'). `create: false` opens
   * them by name: ENOENT (`'OpenFileMappingW'`, `'OpenEventW'`) when absent,
   * EINVAL (`syscall: 'MapViewOfFile'`) when the mapping is smaller than the
   * two rings (VirtualQuery on the view). `name`: 1..200 characters, no
   * backslash or NUL. `side` 0 is the server, 1 the client; `capacity` a
   * power of two in 4096 .. 2^30; `maxFrameBytes` 1 .. 2^32 - 5.
   */
  new (name: string, side: 0 | 1, capacity: number, maxFrameBytes: number, create: boolean): WindowsShmChannel;
}

/**
 * Waits on a thread of its own for one side's bell of a {@link WindowsShmChannel}
 * (it opens the event by name, so it is independent of the channel object)
 * and calls `onRing()` on the JavaScript thread. Rings that arrive while a
 * call is queued are merged into it. Life cycle as MailslotReader's: keeps
 * the loop alive while open unless unref()ed, close() idempotent and safe in
 * the callback, no call after close(); a failed wait closes it and goes to
 * `onError` (or is an uncaught exception).
 */
interface BellWatcher {
  /** `Local\procwire-shm-<name>-s` or `-c`. */
  readonly path: string;
  close(): void;
  ref(): void;
  unref(): void;
}

interface BellWatcherConstructor {
  /** Watches `side`'s own bell (side 0: `-s`, side 1: `-c`); ENOENT (`syscall: 'OpenEventW'`) when no channel created it. */
  new (name: string, side: 0 | 1, onRing: () => void, onError?: WindowsErrorCallback): BellWatcher;
}

export interface WindowsBinding {
  platformInfo(): WindowsPlatformInfo;
  /** The SID of the process token's user, `"S-1-5-21-..."`: the only account the addon's objects admit. */
  currentUserSid(): string;
  MailslotReader: MailslotReaderConstructor;
  MailslotWriter: MailslotWriterConstructor;
  PipeListener: PipeListenerConstructor;
  ShmChannel: WindowsShmChannelConstructor;
  BellWatcher: BellWatcherConstructor;
  readonly constants: WindowsConstants;
}
