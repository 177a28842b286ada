/** FdWatcher: readiness of a descriptor on the JavaScript thread through libuv. */
import { closeSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { native } from '@procwire/native';
import { nextReady, runFixture, tempPath, thrown, waitFor } from './helpers.js';

const { constants } = native;
const { POLL_READABLE, POLL_WRITABLE } = constants;

/** Makes `fd` non-blocking the way the contract says a watcher does. */
function makeNonBlocking(fd: number): void {
  new native.FdWatcher(fd, () => {}).close();
}

/** Reads what is there now from a non-blocking descriptor ('' at end of file, null if nothing yet). */
function readNow(fd: number): string | null {
  const buffer = Buffer.alloc(65536);
  try {
    return buffer.subarray(0, readSync(fd, buffer)).toString();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return null;
    throw error;
  }
}

describe.skipIf(process.platform === 'win32')('FdWatcher', () => {
  it('carries data through a pipe: readable, then read, then EAGAIN, then end of file', async () => {
    const [readFd, writeFd] = native.pipe();
    const readable = nextReady(readFd, POLL_READABLE); // the watcher makes readFd non-blocking
    expect(readNow(readFd)).toBeNull();
    writeSync(writeFd, 'hello through a pipe');
    expect(await readable).toEqual({ events: POLL_READABLE, errno: 0 });
    expect(readNow(readFd)).toBe('hello through a pipe');
    expect(readNow(readFd)).toBeNull();
    const eof = nextReady(readFd, POLL_READABLE);
    native.close(writeFd);
    expect((await eof).events & POLL_READABLE).toBe(POLL_READABLE);
    expect(readNow(readFd)).toBe('');
    native.close(readFd);
  });

  it('reports writable once a full pipe drains, and keeps reporting while watched', async () => {
    const [readFd, writeFd] = native.pipe();
    const reports: number[] = [];
    let wake: () => void = () => {};
    const watcher = new native.FdWatcher(writeFd, (events) => {
      reports.push(events);
      wake();
    });
    makeNonBlocking(readFd);
    const chunk = Buffer.alloc(65536, 1);
    expect(() => {
      for (;;) writeSync(writeFd, chunk);
    }).toThrow(expect.objectContaining({ code: 'EAGAIN' }) as Error);
    watcher.watch(POLL_WRITABLE);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reports).toEqual([]);
    const woken = new Promise<void>((resolve) => (wake = resolve));
    while (readNow(readFd) !== null);
    await woken;
    expect(reports[0]).toBe(POLL_WRITABLE);
    // Level-triggered while still watched: a second report comes without any new event.
    await waitFor(() => reports.length > 1, 'a second writable report');
    expect(reports.every((events) => events === POLL_WRITABLE)).toBe(true);
    watcher.close();
    native.close(readFd);
    native.close(writeFd);
  });

  it('reports an error condition (the reader went away) as errno -EBADF and stops', async () => {
    const [readFd, writeFd] = native.pipe();
    const ready = nextReady(writeFd, POLL_WRITABLE | POLL_READABLE);
    await ready;
    const reports: Array<[number, number]> = [];
    const watcher = new native.FdWatcher(writeFd, (events, errno) => reports.push([events, errno]));
    native.close(readFd);
    watcher.watch(POLL_WRITABLE);
    await waitFor(() => reports.length > 0, 'the error report');
    // And stops: nothing follows it (a level-triggered watch would report again at once).
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reports).toEqual([[0, -constants.EBADF]]);
    watcher.close();
    native.close(writeFd);
  });

  it('close() inside the callback is safe and no later callback comes', async () => {
    const [readFd, writeFd] = native.pipe();
    let calls = 0;
    const watcher = new native.FdWatcher(readFd, () => {
      calls++;
      watcher.close();
      watcher.close(); // idempotent
    });
    watcher.watch(POLL_READABLE);
    writeSync(writeFd, 'x');
    await waitFor(() => calls > 0, 'the readable report');
    // The byte is still unread: a watcher that were not closed would report again at once.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls).toBe(1);
    expect(thrown(() => watcher.watch(POLL_READABLE))).toMatchObject({
      code: 'ERR_INVALID_STATE',
      message: 'FdWatcher.watch: the watcher is closed',
    });
    native.close(readFd);
    native.close(writeFd);
  });

  it('watch(0) stops, and watching again resumes', async () => {
    const [readFd, writeFd] = native.pipe();
    let calls = 0;
    const watcher = new native.FdWatcher(readFd, () => calls++);
    watcher.watch(POLL_READABLE);
    watcher.watch(0);
    writeSync(writeFd, 'x');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(0);
    watcher.watch(POLL_READABLE);
    await waitFor(() => calls > 0, 'a report once watching again');
    native.close(readFd); // closes the watcher first
    native.close(writeFd);
    expect(thrown(() => watcher.watch(POLL_READABLE)).code).toBe('ERR_INVALID_STATE');
  });

  it('refuses a second watcher on one descriptor (EEXIST), a regular file (EPERM) and a closed descriptor (EBADF)', () => {
    const [readFd, writeFd] = native.pipe();
    const first = new native.FdWatcher(readFd, () => {});
    expect(thrown(() => new native.FdWatcher(readFd, () => {}))).toMatchObject({ code: 'EEXIST', syscall: 'uv_poll_init' });
    first.close();
    new native.FdWatcher(readFd, () => {}).close(); // free again once closed
    native.close(readFd);
    native.close(writeFd);
    expect(thrown(() => new native.FdWatcher(readFd, () => {}))).toMatchObject({
      code: 'EBADF',
      errno: -constants.EBADF,
      syscall: 'uv_poll_init',
    });

    const path = tempPath('.txt');
    writeFileSync(path, 'regular');
    const fd = native.open(path, constants.O_RDONLY, 0);
    expect(thrown(() => new native.FdWatcher(fd, () => {}))).toMatchObject({ code: 'EPERM', syscall: 'uv_poll_init' });
    closeSync(fd);
    rmSync(path);
  });

  // Fixtures start slowly on a busy machine (a sanitized addon, other test
  // files beside them): their bounds only catch a process that never ends.
  it('keeps the event loop alive only while watching', { timeout: 200_000 }, async () => {
    const stopped = await runFixture('keepAlive.ts', ['stopped'], { killAfterMs: 60_000 });
    expect(stopped).toMatchObject({ code: 0, signal: null, stderr: '' });
    // Alive a full second after it said it watches (however slowly it started), until killed.
    const watching = await runFixture('keepAlive.ts', ['watching'], { killAfterOutputMs: 1_000, killAfterMs: 60_000 });
    expect(watching.stdout).toMatch(/^watching/);
    expect(watching.signal).toBe('SIGKILL');
  });

  it('an exception thrown by the callback is an uncaught exception', { timeout: 90_000 }, async () => {
    const run = await runFixture('keepAlive.ts', ['throw'], { killAfterMs: 60_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('thrown from onReady');
  });
});
