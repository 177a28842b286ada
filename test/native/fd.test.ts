/** pipe, mkfifo, open, close and fstat of @procwire/native. */
import { closeSync, existsSync, readdirSync, readlinkSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '@procwire/native';
import { isCloseOnExec, tempPath, thrown } from './helpers.js';

const { constants } = native;
const paths: string[] = [];
afterEach(() => {
  for (const path of paths.splice(0)) rmSync(path, { force: true });
});
function fifoPath(): string {
  const path = tempPath('.fifo');
  paths.push(path);
  return path;
}

describe.skipIf(process.platform === 'win32')('descriptors', () => {
  it('pipe() returns a close-on-exec [read, write] pair that carries bytes', () => {
    const [readFd, writeFd] = native.pipe();
    expect(readFd).not.toBe(writeFd);
    if (process.platform === 'linux') expect([isCloseOnExec(readFd), isCloseOnExec(writeFd)]).toEqual([true, true]);
    expect(native.fstat(readFd).isFifo).toBe(true);
    writeSync(writeFd, 'abc');
    const buffer = Buffer.alloc(8);
    expect(buffer.subarray(0, readSync(readFd, buffer)).toString()).toBe('abc');
    native.close(readFd);
    native.close(writeFd);
  });

  it('mkfifo() makes a FIFO with exactly the mode asked for, and EEXIST the second time', () => {
    const path = fifoPath();
    native.mkfifo(path, 0o660); // the test process's umask (022 by default) must not remove g+w
    const info = statSync(path);
    expect(info.isFIFO()).toBe(true);
    expect(info.mode & 0o7777).toBe(0o660);
    expect(info.uid).toBe(process.getuid!());
    const error = thrown(() => native.mkfifo(path, 0o600));
    expect(error).toMatchObject({
      code: 'EEXIST',
      errno: -constants.EEXIST,
      syscall: 'mkfifo',
      path,
      message: `EEXIST: file already exists, mkfifo '${path}'`,
    });
  });

  it('mkfifo() in a missing directory is ENOENT and leaves nothing behind', () => {
    const path = `${tempPath()}/missing/x.fifo`;
    expect(thrown(() => native.mkfifo(path, 0o600))).toMatchObject({ code: 'ENOENT', syscall: 'mkfifo', path });
  });

  it('open() of a FIFO: a reader opens at once with O_NONBLOCK, a writer without a reader gets ENXIO', () => {
    const path = fifoPath();
    native.mkfifo(path, 0o600);
    const writeOnly = constants.O_WRONLY | constants.O_NONBLOCK;
    expect(thrown(() => native.open(path, writeOnly, 0))).toMatchObject({
      code: 'ENXIO',
      errno: -constants.ENXIO,
      syscall: 'open',
      path,
      message: `ENXIO: no such device or address, open '${path}'`,
    });
    const reader = native.open(path, constants.O_RDONLY | constants.O_NONBLOCK, 0);
    const writer = native.open(path, writeOnly, 0);
    if (process.platform === 'linux') expect(isCloseOnExec(reader)).toBe(true);
    writeSync(writer, 'through the fifo');
    const buffer = Buffer.alloc(64);
    expect(buffer.subarray(0, readSync(reader, buffer)).toString()).toBe('through the fifo');
    native.close(writer);
    native.close(reader);
  });

  it('open() with O_CREAT | O_EXCL is EEXIST on an existing file, and a missing file is ENOENT', () => {
    const path = tempPath('.txt');
    paths.push(path);
    const fd = native.open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    native.close(fd);
    expect(existsSync(path)).toBe(true);
    expect(thrown(() => native.open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600))).toMatchObject({
      code: 'EEXIST',
      syscall: 'open',
      path,
    });
    const missing = `${path}.missing`;
    expect(thrown(() => native.open(missing, constants.O_RDONLY, 0))).toMatchObject({
      code: 'ENOENT',
      errno: -constants.ENOENT,
      syscall: 'open',
      path: missing,
      message: `ENOENT: no such file or directory, open '${missing}'`,
    });
  });

  it('fstat() reports mode, owner, inode and device like fs.statSync', () => {
    const path = tempPath('.txt');
    paths.push(path);
    writeFileSync(path, 'twelve bytes', { mode: 0o640 });
    const fd = native.open(path, constants.O_RDONLY, 0);
    const info = native.fstat(fd);
    const expected = statSync(path);
    expect(info).toEqual({
      mode: expected.mode,
      uid: expected.uid,
      gid: expected.gid,
      ino: expected.ino,
      dev: expected.dev,
      size: 12,
      isFifo: false,
      isSocket: false,
    });
    native.close(fd);
  });

  it.skipIf(process.platform !== 'linux')('fstat() recognises a socket', () => {
    // vitest's forks talk to this process over a socket: find one among our descriptors.
    const socketFd = readdirSync('/proc/self/fd')
      .map(Number)
      .find((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
        } catch {
          return false;
        }
      });
    if (socketFd === undefined) return;
    expect(native.fstat(socketFd)).toMatchObject({ isSocket: true, isFifo: false });
  });

  it('close() of a closed descriptor and fstat() of one are EBADF', () => {
    const [readFd, writeFd] = native.pipe();
    native.close(readFd);
    closeSync(writeFd);
    expect(thrown(() => native.close(readFd))).toMatchObject({
      code: 'EBADF',
      errno: -constants.EBADF,
      syscall: 'close',
      message: 'EBADF: bad file descriptor, close',
    });
    expect(thrown(() => native.close(readFd))).not.toHaveProperty('path');
    expect(thrown(() => native.fstat(writeFd))).toMatchObject({ code: 'EBADF', syscall: 'fstat' });
  });

  it("errors are plain Errors with a stack, like Node's system errors", () => {
    const error = thrown(() => native.fstat(2 ** 31 - 1));
    expect(error).toBeInstanceOf(Error);
    expect(error.stack).toContain('EBADF');
  });
});
