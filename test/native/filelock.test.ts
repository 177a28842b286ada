/** fileLockTry, fileLockTryShared, fileUnlock and fileLockQuery of @procwire/native (Linux OFD locks). */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '@procwire/native';
import { tempPath, thrown } from './helpers.js';

const { constants } = native;
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A fresh file and `count` separate opens of it (each its own open file description). */
function opens(count: number, flags = constants.O_RDWR): { path: string; fds: number[] } {
  const path = tempPath('.lock');
  writeFileSync(path, '');
  cleanups.push(() => rmSync(path, { force: true }));
  const fds = Array.from({ length: count }, () => native.open(path, flags, 0));
  cleanups.push(() => {
    for (const fd of fds) {
      try {
        native.close(fd);
      } catch {
        // closed by the test
      }
    }
  });
  return { path, fds };
}

describe.skipIf(process.platform !== 'linux')('file locks (OFD)', () => {
  it('two opens of one file conflict on the same byte, even in one process; other bytes are independent', () => {
    const [a, b] = opens(2).fds as [number, number];
    expect(native.fileLockTry(a, 0, 1)).toBe(true);
    expect(native.fileLockTry(a, 0, 1)).toBe(true); // held already through this open
    expect(native.fileLockTry(b, 0, 1)).toBe(false);
    expect(native.fileLockTry(b, 1, 1)).toBe(true);
    expect(native.fileLockTry(a, 1, 1)).toBe(false);
    expect(native.fileLockTry(b, 0, 2)).toBe(false); // overlaps byte 0
  });

  it('fileUnlock frees the bytes for another open; unlocking what is not held is fine', () => {
    const [a, b] = opens(2).fds as [number, number];
    expect(native.fileLockTry(a, 10, 1)).toBe(true);
    expect(native.fileLockTry(b, 10, 1)).toBe(false);
    native.fileUnlock(a, 10, 1);
    expect(native.fileLockTry(b, 10, 1)).toBe(true);
    native.fileUnlock(a, 500, 3);
    expect(native.fileLockTry(a, 10, 1)).toBe(false);
  });

  it('closing the descriptor drops its locks', () => {
    const { fds } = opens(2);
    const [a, b] = fds as [number, number];
    expect(native.fileLockTry(a, 3, 1)).toBe(true);
    native.close(a);
    fds.splice(0, 1);
    expect(native.fileLockTry(b, 3, 1)).toBe(true);
  });

  it('bytes beyond the end of the file and at 2^53 - 1 can be locked', () => {
    const [a, b] = opens(2).fds as [number, number];
    expect(native.fileLockTry(a, 4096, 1)).toBe(true);
    expect(native.fileLockTry(b, 4096, 1)).toBe(false);
    expect(native.fileLockTry(a, Number.MAX_SAFE_INTEGER - 1, 1)).toBe(true);
    expect(native.fileLockTry(b, Number.MAX_SAFE_INTEGER - 1, 1)).toBe(false);
  });

  it('shared locks coexist and exclude an exclusive one; an exclusive one excludes them', () => {
    const [a, b, c] = opens(3).fds as [number, number, number];
    expect(native.fileLockTryShared(a, 0, 1)).toBe(true);
    expect(native.fileLockTryShared(b, 0, 1)).toBe(true);
    expect(native.fileLockTry(c, 0, 1)).toBe(false);
    native.fileUnlock(a, 0, 1);
    native.fileUnlock(b, 0, 1);
    expect(native.fileLockTry(c, 0, 1)).toBe(true);
    expect(native.fileLockTryShared(a, 0, 1)).toBe(false);
  });

  it('fileLockQuery reports the first conflicting lock of another open, never its own', () => {
    const [a, b] = opens(2).fds as [number, number];
    expect(native.fileLockQuery(b, 0, 100)).toBeNull();
    expect(native.fileLockTry(a, 5, 2)).toBe(true);
    expect(native.fileLockQuery(b, 0, 100)).toEqual({ start: 5, length: 2, shared: false });
    expect(native.fileLockQuery(b, 0, 5)).toBeNull();
    expect(native.fileLockQuery(a, 0, 100)).toBeNull();
    native.fileUnlock(a, 5, 2);
    expect(native.fileLockTryShared(a, 7, 1)).toBe(true);
    expect(native.fileLockQuery(b, 0, 100)).toEqual({ start: 7, length: 1, shared: true });
  });

  it('a process killed with SIGKILL loses its locks', async () => {
    const { path, fds } = opens(1);
    const [mine] = fds as [number];
    const child = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, 'semaphoreRawLock.ts'), path, '7'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before locking`)));
    });
    expect(native.fileLockTry(mine, 7, 1)).toBe(false);
    expect(native.fileLockQuery(mine, 7, 1)).toEqual({ start: 7, length: 1, shared: false });
    child.kill('SIGKILL');
    await exited;
    expect(native.fileLockQuery(mine, 7, 1)).toBeNull();
    expect(native.fileLockTry(mine, 7, 1)).toBe(true);
  });

  it('an exclusive lock needs a descriptor open for writing, a shared one for reading (EBADF)', () => {
    const [readOnly] = opens(1, constants.O_RDONLY).fds as [number];
    expect(thrown(() => native.fileLockTry(readOnly, 0, 1))).toMatchObject({
      code: 'EBADF',
      errno: -constants.EBADF,
      syscall: 'fcntl',
      message: 'EBADF: bad file descriptor, fcntl',
    });
    expect(native.fileLockTryShared(readOnly, 0, 1)).toBe(true);
    const [writeOnly] = opens(1, constants.O_WRONLY).fds as [number];
    expect(thrown(() => native.fileLockTryShared(writeOnly, 0, 1))).toMatchObject({ code: 'EBADF', syscall: 'fcntl' });
  });

  it('a closed descriptor is EBADF for every call', () => {
    const { fds } = opens(1);
    const fd = fds.pop()!;
    native.close(fd);
    for (const call of [native.fileLockTry, native.fileLockTryShared, native.fileUnlock, native.fileLockQuery]) {
      expect(thrown(() => call(fd, 0, 1))).toMatchObject({ code: 'EBADF', errno: -constants.EBADF, syscall: 'fcntl' });
    }
  });

  // [what is called, error class, code, exact message]
  const cases: Array<[string, () => unknown, ErrorConstructor, string, string]> = [
    [
      'fileLockTry(string fd)',
      () => native.fileLockTry('3' as never, 0, 1),
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'The "fd" argument must be of type number. Received type string',
    ],
    [
      'fileLockTry(-1 fd)',
      () => native.fileLockTry(-1, 0, 1),
      RangeError,
      'ERR_OUT_OF_RANGE',
      'The value of "fd" is out of range. It must be an integer >= 0 and <= 2147483647. Received -1',
    ],
    [
      'fileLockTry(negative start)',
      () => native.fileLockTry(0, -1, 1),
      RangeError,
      'ERR_OUT_OF_RANGE',
      'The value of "start" is out of range. It must be an integer >= 0 and <= 9007199254740991. Received -1',
    ],
    [
      'fileLockTry(start 2^53)',
      () => native.fileLockTry(0, 2 ** 53, 1),
      RangeError,
      'ERR_OUT_OF_RANGE',
      'The value of "start" is out of range. It must be an integer >= 0 and <= 9007199254740991. Received 9007199254740992',
    ],
    [
      'fileLockTryShared(length 0)',
      () => native.fileLockTryShared(0, 0, 0),
      RangeError,
      'ERR_OUT_OF_RANGE',
      'The value of "length" is out of range. It must be an integer >= 1 and <= 9007199254740991. Received 0',
    ],
    [
      'fileUnlock(fractional length)',
      () => native.fileUnlock(0, 0, 1.5),
      RangeError,
      'ERR_OUT_OF_RANGE',
      'The value of "length" is out of range. It must be an integer >= 1 and <= 9007199254740991. Received 1.5',
    ],
    [
      'fileUnlock(missing length)',
      () => (native.fileUnlock as (fd: number, start: number) => void)(0, 0),
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'The "length" argument must be of type number. Received undefined',
    ],
    [
      'fileLockQuery(bigint start)',
      () => native.fileLockQuery(0, 0n as never, 1),
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'The "start" argument must be of type number. Received type bigint',
    ],
  ];
  for (const [what, call, errorClass, code, message] of cases) {
    it(`${what} throws ${errorClass.name} ${code} before any system call`, () => {
      const error = thrown(call);
      expect(error).toBeInstanceOf(errorClass);
      expect(error.code).toBe(code);
      expect(error.message).toBe(message);
      expect(error).not.toHaveProperty('syscall');
    });
  }
});
