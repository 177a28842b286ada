/** Helpers shared by the tests of @procwire/native. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native, type NativeSystemError } from '@procwire/native';

export const NATIVE_FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A short unique name, so parallel tests and runs never share an OS object. */
function uniqueName(prefix = 'pwn'): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function tempPath(suffix = ''): string {
  return join(tmpdir(), `${uniqueName()}${suffix}`);
}

/** A unique POSIX message-queue name ("/name"). */
export function queueName(): string {
  return `/${uniqueName('pwq')}`;
}

/** What `fn` throws; fails the test when it returns. */
export function thrown(fn: () => unknown): NativeSystemError {
  try {
    fn();
  } catch (error) {
    return error as NativeSystemError;
  }
  throw new Error('expected the call to throw');
}

/** Linux: whether `fd` is close-on-exec, from /proc/self/fdinfo (flags are octal). */
export function isCloseOnExec(fd: number): boolean {
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
  return (parseInt(flags ?? '0', 8) & 0o2000000) !== 0;
}

/** Resolves with the first readiness report of `fd` for `events`, then closes the watcher. */
export function nextReady(fd: number, events: number): Promise<{ events: number; errno: number }> {
  return new Promise((resolve) => {
    const watcher = new native.FdWatcher(fd, (ready, errno) => {
      watcher.close();
      resolve({ events: ready, errno });
    });
    watcher.watch(events);
  });
}

export interface FixtureRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs test/native/fixtures/<name> in its own Node process (through tsx) to its end. */
export function runFixture(
  name: string,
  args: string[] = [],
  options: {
    uid?: number;
    gid?: number;
    env?: NodeJS.ProcessEnv;
    /** SIGKILLs the fixture this long after it starts (a safety bound, seconds on a busy machine). */
    killAfterMs?: number;
    /**
     * SIGKILLs the fixture this long after its first output (what shows it is
     * alive), so how fast it starts under load does not change the verdict.
     */
    killAfterOutputMs?: number;
  } = {},
): Promise<FixtureRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(NATIVE_FIXTURES, name), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });
  let stdout = '';
  let stderr = '';
  let afterOutput: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (options.killAfterOutputMs !== undefined) afterOutput ??= setTimeout(() => child.kill('SIGKILL'), options.killAfterOutputMs);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  const stopTimers = () => {
    clearTimeout(timer);
    clearTimeout(afterOutput);
  };
  return new Promise((resolve) => {
    child.once('error', (error) => {
      stopTimers();
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}spawn failed: ${error.message}` });
    });
    child.once('close', (code, signal) => {
      stopTimers();
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Whether a user with no rights but the "other" bits can reach and execute `path`. */
export function othersCanExecute(path: string): boolean {
  const parts = resolve(path).split(sep);
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(sep) || sep;
    if ((statSync(prefix).mode & 0o001) === 0) return false;
  }
  return true;
}

/**
 * Resolves once `condition()` holds, checking every few milliseconds; fails
 * after `timeoutMs` (a generous bound: the event is what the test waits for,
 * not a guess of how long it takes on a busy machine).
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (const deadline = performance.now() + timeoutMs; !condition();) {
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
