/**
 * Named counting semaphores shared by the processes of one user (Linux).
 *
 * Contract
 * - Who creates: whoever opens a name first creates it, with `permits`
 *   (default 1); every later open, in any process of the same user, uses the
 *   same permits. Opening with a different count is ADDRESS_IN_USE (the count
 *   is fixed at creation; leave `permits` out to take whatever exists). The
 *   files live in the user's private runtime directory (0700):
 *   `sem-<name>.lock` (0600, created complete and atomically) and the doorbell
 *   FIFO `sem-<name>.bell` (0600), both exactly 0600 whatever the umask.
 *   Files owned by another user, open to group or others, or of the wrong
 *   type are refused (ADDRESS_IN_USE), never used.
 * - Permits: permit i is an exclusive lock, owned by one open file
 *   description, on byte i of the lock file (Linux OFD locks). At any moment
 *   no two holders, in any processes, hold the same index, and at most
 *   `permits` are held. Each held permit owns its own descriptor; permits of
 *   one process exclude each other exactly like those of different processes.
 * - A holder dies: the kernel drops its locks as its descriptors close, for
 *   any death (SIGKILL included, no bookkeeping, no pid reuse problem). A
 *   death rings no doorbell, so waiters notice it on their next recovery
 *   poll: a dead holder's permit reaches a waiter within
 *   SEMAPHORE_RECOVERY_MS (plus scheduling delay).
 * - Waiting: a waiter listens on the doorbell (FIFO readiness through uv_poll:
 *   no thread waits, the event loop never blocks), and `release()` rings it,
 *   so a released permit reaches a waiter in another process at once. There is
 *   no FIFO order between waiters, only within one Semaphore object. A pending
 *   acquire keeps the process alive; an idle semaphore or a held permit does
 *   not. Descriptors are close-on-exec: a child process never inherits a permit.
 * - Cleanup: `close()` rejects pending acquires with CLOSED and releases the
 *   permits it still holds; process exit does the same. The files stay, like
 *   any named semaphore; `removeSemaphore(name)` removes them, and refuses
 *   (ADDRESS_IN_USE) while any process has the semaphore open, because a
 *   process still using removed files would no longer exclude new ones.
 * - Errors: bad arguments are INVALID_ARGUMENT; a wait ends with TIMEOUT,
 *   CANCELLED (the AbortSignal) or CLOSED; other platforms get UNSUPPORTED;
 *   an unexpected system error (EMFILE, ...) is thrown as it is, errno-shaped.
 */
import { readSync, writeSync } from 'node:fs';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { native, type FdWatcher } from '@procwire/native';
import {
  LAYOUT,
  MAX_PERMITS,
  checkName,
  ensureBell,
  openBell,
  openDescription,
  openLockFile,
  removeFiles,
  semaphorePaths,
  type FileIdentity,
  type SemaphorePaths,
} from './semaphoreFiles.js';

/**
 * How often a waiter retries without being rung: the longest a permit freed
 * by a dead holder (which rings no bell) stays unnoticed.
 */
export const SEMAPHORE_RECOVERY_MS = 100;
/** Lockless descriptions of the lock file kept for reuse, per semaphore. */
const IDLE_DESCRIPTIONS = 4;
/** setTimeout's ceiling; a longer timeout means none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SemaphoreOptions {
  /** 1 .. 1024. Used when this open creates the semaphore; otherwise it must match. Default: whatever exists, else 1. */
  permits?: number;
}

export interface AcquireOptions {
  /** Aborting rejects the pending acquire with CANCELLED (its `cause` is the signal's reason). */
  signal?: AbortSignal;
  /** Rejects with TIMEOUT when no permit was free for this long. 0 or left out: no limit. */
  timeoutMs?: number;
}

/** One held permit. Released by `release()`, at the end of a `using` scope, by `close()` of its semaphore, or by process death. */
export interface Permit extends Disposable {
  /** Which permit this is, 0 .. permits-1: no other holder has the same index while this one is held. */
  readonly index: number;
  /** The semaphore's name. */
  readonly semaphore: string;
  readonly released: boolean;
  /** Gives the permit back and wakes a waiter. Idempotent. */
  release(): void;
  [Symbol.dispose](): void;
}

export interface Semaphore extends Disposable {
  readonly name: string;
  readonly permits: number;
  /** The lock file; the doorbell FIFO is next to it. */
  readonly path: string;
  /** A permit; waits without blocking until one is free. */
  acquire(options?: AcquireOptions): Promise<Permit>;
  /** A permit if one is free now, else undefined. */
  tryAcquire(): Permit | undefined;
  /** Rejects pending acquires with CLOSED and releases the permits still held. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * Opens the semaphore `name` (letters, digits, ".", "_", "-"; up to 200),
 * creating it if no process did yet.
 */
export function openSemaphore(name: string, options: SemaphoreOptions = {}): Semaphore {
  checkName(name);
  const permits = options?.permits;
  if (permits !== undefined && (!Number.isInteger(permits) || permits < 1 || permits > MAX_PERMITS)) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `permits must be an integer from 1 to ${MAX_PERMITS}; got ${String(permits)}`);
  }
  checkPlatform();
  const paths = semaphorePaths(name);
  const lock = openLockFile(paths, name, permits);
  try {
    ensureBell(paths, name);
  } catch (error) {
    native.close(lock.fd);
    throw error;
  }
  return new NamedSemaphore(name, paths, lock.fd, lock, lock.permits);
}

/**
 * Removes the files of semaphore `name`: true when removed, false when there
 * were none. ADDRESS_IN_USE while any process (this one included) has it open.
 */
export function removeSemaphore(name: string): boolean {
  checkName(name);
  checkPlatform();
  return removeFiles(semaphorePaths(name), name);
}

function checkPlatform(): void {
  if (process.platform !== 'linux') {
    throw new ProcwireError(ErrorCode.UNSUPPORTED, `named semaphores need Linux open file description locks (not on ${process.platform})`);
  }
}

interface Waiter {
  resolve(permit: Permit): void;
  reject(error: unknown): void;
  /** Clears the waiter's timer and abort listener. */
  settle(): void;
}

/** What a waiting Semaphore holds: the doorbell's read end, watched, and a write end that keeps it from reporting end-of-file. */
interface Doorbell {
  readFd: number;
  keepFd: number;
  watcher: FdWatcher;
}

const drainBuffer = Buffer.alloc(64);
const RING = Buffer.from([1]);

class NamedSemaphore implements Semaphore {
  readonly path: string;
  private closed = false;
  /** Descriptions of the lock file that hold no lock. */
  private readonly idle: number[] = [];
  private readonly held = new Set<HeldPermit>();
  private readonly waiters: Waiter[] = [];
  private doorbell: Doorbell | undefined;
  private recovery: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly paths: SemaphorePaths,
    /** Holds the shared "open" lock that keeps removeSemaphore away. */
    private readonly openFd: number,
    private readonly identity: FileIdentity,
    readonly permits: number,
  ) {
    this.path = paths.lock;
  }

  tryAcquire(): Permit | undefined {
    if (this.closed) throw this.closedError();
    return this.tryLock();
  }

  async acquire(options: AcquireOptions = {}): Promise<Permit> {
    const { signal, timeoutMs } = checkAcquireOptions(options);
    if (this.closed) throw this.closedError();
    if (signal?.aborted) throw this.cancelled(signal);
    const now = this.tryLock();
    if (now) return now;
    return new Promise<Permit>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        this.forget(waiter);
        reject(this.cancelled(signal!));
      };
      const waiter: Waiter = {
        resolve,
        reject,
        settle: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
        timer = setTimeout(() => {
          this.forget(waiter);
          reject(new ProcwireError(ErrorCode.TIMEOUT, `semaphore "${this.name}": no permit was free within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      if (this.waiters.length === 1) this.listen();
      // Tried again now that the doorbell is heard: a release between the
      // first try and listening rang nobody.
      this.serve();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const error = this.closedError();
    for (const waiter of this.waiters.splice(0)) {
      waiter.settle();
      waiter.reject(error);
    }
    this.stopListening();
    const heldAny = this.held.size > 0;
    for (const permit of this.held) {
      permit.markReleased();
      native.close(permit.fd);
    }
    this.held.clear();
    for (const fd of this.idle.splice(0)) native.close(fd);
    native.close(this.openFd);
    if (heldAny) this.ring();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Called by a permit's release(). */
  giveBack(permit: HeldPermit): void {
    if (!this.held.delete(permit)) return; // released by close() already
    try {
      native.fileUnlock(permit.fd, LAYOUT.FIRST_PERMIT_BYTE + permit.index, 1);
      if (this.idle.length < IDLE_DESCRIPTIONS) this.idle.push(permit.fd);
      else native.close(permit.fd);
    } catch {
      native.close(permit.fd); // closing the description drops its lock too
    }
    this.ring();
  }

  /** Takes the first free permit, through a description that holds nothing. */
  private tryLock(): Permit | undefined {
    const fd = this.idle.pop() ?? openDescription(this.paths, this.identity, this.name);
    try {
      for (let index = 0; index < this.permits; index++) {
        if (native.fileLockTry(fd, LAYOUT.FIRST_PERMIT_BYTE + index, 1)) {
          const permit = new HeldPermit(this, fd, index);
          this.held.add(permit);
          return permit;
        }
      }
    } catch (error) {
      native.close(fd);
      throw error;
    }
    this.idle.push(fd);
    return undefined;
  }

  /** Hands free permits to waiters, oldest first; stops listening once none waits. */
  private serve(): void {
    while (this.waiters.length > 0) {
      let permit: Permit | undefined;
      try {
        permit = this.tryLock();
      } catch (error) {
        // The files were tampered with or descriptors ran out: no waiter can be served.
        for (const waiter of this.waiters.splice(0)) {
          waiter.settle();
          waiter.reject(error);
        }
        break;
      }
      if (permit === undefined) break;
      const waiter = this.waiters.shift()!;
      waiter.settle();
      waiter.resolve(permit);
    }
    if (this.waiters.length === 0) this.stopListening();
  }

  private forget(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at < 0) return;
    this.waiters.splice(at, 1);
    waiter.settle();
    if (this.waiters.length === 0) this.stopListening();
  }

  /** Starts hearing the doorbell and the recovery poll. Without a doorbell, the poll alone still finds every permit. */
  private listen(): void {
    this.recovery = setInterval(() => this.serve(), SEMAPHORE_RECOVERY_MS);
    const { O_RDONLY, O_WRONLY, POLL_READABLE } = native.constants;
    let readFd = openBell(this.paths, O_RDONLY);
    if (readFd === undefined) {
      // Removed behind our back (by hand): make a new one for everybody.
      try {
        ensureBell(this.paths, this.name);
      } catch {
        return;
      }
      readFd = openBell(this.paths, O_RDONLY);
      if (readFd === undefined) return;
    }
    // Our own write end: a FIFO whose last writer closed reports end-of-file
    // (readable) without end, which would make this a busy loop.
    const keepFd = openBell(this.paths, O_WRONLY);
    if (keepFd === undefined) {
      native.close(readFd);
      return;
    }
    try {
      const watcher = new native.FdWatcher(readFd, (_events, errno) => this.onRing(errno));
      this.doorbell = { readFd, keepFd, watcher };
      watcher.watch(POLL_READABLE);
    } catch {
      this.doorbell = undefined;
      native.close(readFd);
      native.close(keepFd);
    }
  }

  private stopListening(): void {
    clearInterval(this.recovery);
    this.recovery = undefined;
    const bell = this.doorbell;
    if (bell === undefined) return;
    this.doorbell = undefined;
    native.close(bell.readFd); // closes the watcher first
    native.close(bell.keepFd);
  }

  private onRing(errno: number): void {
    const bell = this.doorbell;
    if (bell === undefined) return;
    if (errno !== 0) {
      // The watcher stopped: keep waiting on the recovery poll alone.
      this.doorbell = undefined;
      native.close(bell.readFd);
      native.close(bell.keepFd);
      return;
    }
    let rung = false;
    try {
      while (readSync(bell.readFd, drainBuffer) > 0) rung = true;
    } catch {
      // EAGAIN: drained (nothing else can fail on a FIFO we hold both ends of)
    }
    const waited = this.waiters.length > 0;
    this.serve();
    // Every waiting process hears a ring, but the first to drain it takes the
    // bytes of all releases: pass the ring on once we need no more permits,
    // so a waiter elsewhere is not left for the recovery poll.
    if (rung && waited && this.waiters.length === 0) this.ring();
  }

  /** Wakes the waiters of every process (nothing to do when nobody waits: ENXIO). */
  private ring(): void {
    const fd = openBell(this.paths, native.constants.O_WRONLY);
    if (fd === undefined) return;
    try {
      writeSync(fd, RING);
    } catch {
      // EAGAIN: the FIFO is full of rings, so it is readable already
    } finally {
      native.close(fd);
    }
  }

  private closedError(): ProcwireError {
    return new ProcwireError(ErrorCode.CLOSED, `semaphore "${this.name}" is closed`);
  }

  private cancelled(signal: AbortSignal): ProcwireError {
    return new ProcwireError(ErrorCode.CANCELLED, `semaphore "${this.name}": acquire was aborted`, { cause: signal.reason });
  }
}

class HeldPermit implements Permit {
  private done = false;

  constructor(
    private readonly owner: NamedSemaphore,
    /** The description whose lock this permit is. */
    readonly fd: number,
    readonly index: number,
  ) {}

  get semaphore(): string {
    return this.owner.name;
  }

  get released(): boolean {
    return this.done;
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.owner.giveBack(this);
  }

  [Symbol.dispose](): void {
    this.release();
  }

  /** Its semaphore closed the description. */
  markReleased(): void {
    this.done = true;
  }
}

function checkAcquireOptions(options: AcquireOptions): { signal: AbortSignal | undefined; timeoutMs: number } {
  const { signal, timeoutMs = 0 } = options ?? {};
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'timeoutMs must be a non-negative number of milliseconds (0 = none)');
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'signal must be an AbortSignal');
  }
  return { signal, timeoutMs };
}
