/**
 * The two files of a named semaphore, in the private runtime directory:
 *
 *   sem-<name>.lock  a regular file, 0600. Its content is one line,
 *                    `procwire-semaphore/1 permits=<n>\n`, written before the
 *                    file gets its name (temp file, then link(2), which never
 *                    replaces), so no process ever reads a half-written one.
 *                    Its byte locks are the semaphore's state (see LAYOUT).
 *   sem-<name>.bell  a FIFO, 0600: the doorbell waiters listen on.
 *
 * Files owned by another user, open to group or others, or of the wrong
 * type are refused, never used or removed.
 */
import { randomBytes } from 'node:crypto';
import { fchmodSync, linkSync, lstatSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { native, type FdStat } from '@procwire/native';
import { privateRuntimeDir } from '@procwire/transports/names';

/** Byte locks on the lock file (advisory OFD locks; the bytes need not exist). */
export const LAYOUT = {
  /** Permit i is an exclusive lock on byte FIRST_PERMIT_BYTE + i. */
  FIRST_PERMIT_BYTE: 0,
  /** Every open semaphore holds a shared lock on this byte; removal takes it exclusively. */
  OPEN_BYTE: 4096,
} as const;

export const MAX_PERMITS = 1024;
const NAME = /^[A-Za-z0-9._-]{1,200}$/;
/** The lock file's whole content. */
const HEADER = /^procwire-semaphore\/1 permits=([1-9][0-9]{0,3})\n$/;
const header = (permits: number) => `procwire-semaphore/1 permits=${permits}\n`;
/** Longer than any valid header, so a longer file does not match. */
const HEADER_READ_BYTES = 64;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;

export interface SemaphorePaths {
  readonly lock: string;
  readonly bell: string;
}

/** A file as fstat or lstat saw it: enough to tell whether a later open is the same file. */
export interface FileIdentity {
  readonly ino: number;
  readonly dev: number;
}

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ProcwireError(
      ErrorCode.INVALID_ARGUMENT,
      `semaphore name must be 1 to 200 letters, digits, ".", "_" or "-"; got ${JSON.stringify(name)}`,
    );
  }
}

export function semaphorePaths(name: string): SemaphorePaths {
  const dir = privateRuntimeDir();
  return { lock: join(dir, `sem-${name}.lock`), bell: join(dir, `sem-${name}.bell`) };
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function refuse(name: string, why: string, cause?: unknown): ProcwireError {
  return new ProcwireError(ErrorCode.ADDRESS_IN_USE, `semaphore "${name}": ${why}; not using it`, { cause });
}

/** Ours, private and of the expected type, or a typed refusal. */
function checkOwned(info: Pick<FdStat, 'mode' | 'uid'>, path: string, name: string, type: 'file' | 'fifo'): void {
  const uid = process.getuid?.();
  const expected = type === 'file' ? S_IFREG : S_IFIFO;
  if ((info.mode & S_IFMT) !== expected) throw refuse(name, `${path} is not a ${type === 'file' ? 'regular file' : 'FIFO'}`);
  if (uid !== undefined && info.uid !== uid) throw refuse(name, `${path} belongs to another user (uid ${info.uid})`);
  if ((info.mode & 0o077) !== 0) {
    throw refuse(name, `${path} is open to group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')})`);
  }
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/** Opens the lock file for locking (read-write, no symlinks, close-on-exec). */
function openLock(path: string): number {
  const { O_RDWR, O_NONBLOCK, O_NOFOLLOW } = native.constants;
  // O_NONBLOCK: something else put at the path (a FIFO) must not block the open.
  return native.open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW, 0);
}

/**
 * Another open file description of the lock file, checked to be the same
 * file as `identity` (throws a refusal if the name now points elsewhere).
 */
export function openDescription(paths: SemaphorePaths, identity: FileIdentity, name: string): number {
  let fd: number;
  try {
    fd = openLock(paths.lock);
  } catch (error) {
    throw refuse(name, `${paths.lock} was removed or replaced while open`, error);
  }
  if (!sameFile(native.fstat(fd), identity)) {
    native.close(fd);
    throw refuse(name, `${paths.lock} was replaced while open`);
  }
  return fd;
}

/** Creates the lock file complete, or leaves an existing one alone. */
function createLockFile(path: string, permits: number): void {
  const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = native.constants;
  const fd = native.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    try {
      fchmodSync(fd, 0o600); // exactly 0600 whatever the umask
      writeSync(fd, header(permits));
    } finally {
      native.close(fd);
    }
    linkSync(temp, path);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error; // EEXIST: another process created it first
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // not created
    }
  }
}

function readPermits(fd: number, path: string, name: string): number {
  const buffer = Buffer.alloc(HEADER_READ_BYTES);
  const length = readSync(fd, buffer, 0, buffer.length, 0);
  const match = HEADER.exec(buffer.toString('latin1', 0, length));
  const permits = match ? Number(match[1]) : 0;
  if (permits < 1 || permits > MAX_PERMITS) throw refuse(name, `${path} is not a procwire semaphore file`);
  return permits;
}

/** Sleeps the thread; only while a removal, which takes microseconds, holds the file. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface OpenedLock extends FileIdentity {
  /** Holds the shared lock on OPEN_BYTE for as long as it is open. */
  readonly fd: number;
  readonly permits: number;
}

/**
 * Opens the lock file, creating it with `permits` (default 1) if missing, and
 * takes the shared "open" lock. Afterwards the name is known to still be this
 * file: a removal can only happen once the returned descriptor is closed.
 */
export function openLockFile(paths: SemaphorePaths, name: string, permits: number | undefined): OpenedLock {
  // Each round lost a race with a removal, or waited out one in progress.
  for (let round = 0; round < 200; round++) {
    let fd: number;
    try {
      fd = openLock(paths.lock);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') {
        createLockFile(paths.lock, permits ?? 1);
        continue;
      }
      if (code === 'ELOOP') throw refuse(name, `${paths.lock} is a symbolic link`, error);
      if (code === 'EACCES' || code === 'EPERM') throw refuse(name, `${paths.lock} refuses access`, error);
      throw error;
    }
    try {
      const info = native.fstat(fd);
      checkOwned(info, paths.lock, name, 'file');
      const found = readPermits(fd, paths.lock, name);
      if (permits !== undefined && permits !== found) {
        throw new ProcwireError(
          ErrorCode.ADDRESS_IN_USE,
          `semaphore "${name}" exists with ${found} permit${found === 1 ? '' : 's'}, not ${permits}: ` +
            `open it with { permits: ${found} } (or none), or remove it with removeSemaphore() when no process has it open`,
        );
      }
      if (!native.fileLockTryShared(fd, LAYOUT.OPEN_BYTE, 1)) {
        // A removal holds it: once done, the name is gone or is a new file.
        native.close(fd);
        pause(1);
        continue;
      }
      let current: FileIdentity | undefined;
      try {
        current = lstatSync(paths.lock);
      } catch {
        // removed just before our lock
      }
      if (current === undefined || !sameFile(current, info)) {
        native.close(fd);
        continue;
      }
      return { fd, permits: found, ino: info.ino, dev: info.dev };
    } catch (error) {
      native.close(fd);
      throw error;
    }
  }
  throw refuse(name, `${paths.lock} kept being removed or replaced while opening it`);
}

/** Makes sure the doorbell FIFO exists and is ours. */
export function ensureBell(paths: SemaphorePaths, name: string): void {
  for (let round = 0; round < 10; round++) {
    try {
      checkOwned(lstatSync(paths.bell), paths.bell, name, 'fifo');
      return;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    try {
      native.mkfifo(paths.bell, 0o600);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error; // EEXIST: another process was first
    }
  }
  throw refuse(name, `${paths.bell} kept being removed while opening it`);
}

/**
 * Opens the doorbell with `flags` (plus O_NONBLOCK and O_NOFOLLOW) and checks
 * that what was opened is a FIFO of ours, private; undefined when it cannot
 * be opened (for a writer, ENXIO: nobody waits) or is anything else.
 */
export function openBell(paths: SemaphorePaths, flags: number): number | undefined {
  const { O_NONBLOCK, O_NOFOLLOW } = native.constants;
  let fd: number;
  try {
    fd = native.open(paths.bell, flags | O_NONBLOCK | O_NOFOLLOW, 0);
  } catch {
    return undefined;
  }
  try {
    checkOwned(native.fstat(fd), paths.bell, '', 'fifo');
    return fd;
  } catch {
    native.close(fd);
    return undefined;
  }
}

/**
 * Removes both files when no process has the semaphore open: true when
 * removed, false when there was nothing to remove. A semaphore open anywhere
 * (this process included) is ADDRESS_IN_USE.
 */
export function removeFiles(paths: SemaphorePaths, name: string): boolean {
  let fd: number;
  try {
    fd = openLock(paths.lock);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw refuse(name, `cannot open ${paths.lock}`, error);
    return removeBell(paths, name);
  }
  try {
    const info = native.fstat(fd);
    checkOwned(info, paths.lock, name, 'file');
    if (!native.fileLockTry(fd, LAYOUT.OPEN_BYTE, 1)) {
      throw new ProcwireError(
        ErrorCode.ADDRESS_IN_USE,
        `semaphore "${name}" is open in a live process; close it everywhere before removing it`,
      );
    }
    // The bell first: an opener that gets past our lock only after the lock
    // file is gone creates a new lock file, then a new bell, never this one.
    removeBell(paths, name);
    try {
      if (sameFile(lstatSync(paths.lock), info)) unlinkSync(paths.lock);
    } catch {
      // already gone
    }
    return true;
  } finally {
    native.close(fd);
  }
}

function removeBell(paths: SemaphorePaths, name: string): boolean {
  let info;
  try {
    info = lstatSync(paths.bell);
  } catch {
    return false;
  }
  checkOwned(info, paths.bell, name, 'fifo');
  try {
    unlinkSync(paths.bell);
    return true;
  } catch {
    return false;
  }
}
