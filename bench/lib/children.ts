/**
 * Starting and stopping the server processes from the measuring client, and
 * the guard that makes a server exit when its client is gone. Servers are
 * children of the client, so with `taskset -c 0` on the client they inherit
 * its CPU affinity: both processes of a pinned case share CPU 0.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a server entry file in bench/servers/. */
export function serverModule(name: string): string {
  return fileURLToPath(new URL(`../servers/${name}`, import.meta.url));
}

const children = new Set<ChildProcess>();
const stopping = new WeakSet<ChildProcess>();
let exitHookInstalled = false;

/** Marks a child as being stopped on purpose, so its exit is not a failure. */
export function expectExit(child: ChildProcess): void {
  stopping.add(child);
}

/**
 * Every child started here is killed when this process exits, however it
 * exits. A server that dies in the middle of a session fails the session at
 * once (instead of leaving a call waiting for an answer that never comes).
 */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (stopping.has(child)) return;
    // Deferred, so a caller that is already handling this exit (startServer) reports it first.
    setImmediate(() => {
      if (stopping.has(child)) return;
      process.stderr.write(`server process ${child.pid} exited during the session (${code ?? signal})\n`);
      killAll();
      process.exit(1);
    });
  });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killAll);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killAll();
        process.exit(1);
      });
    }
  }
  return child;
}

export function killAll(): void {
  for (const child of children) {
    expectExit(child);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

export interface StartedServer {
  readonly child: ChildProcess;
  /** What the server printed after "ready " (its address). */
  readonly info: string;
}

/**
 * Starts a server entry with this process's Node options (so the tsx loader
 * carries over) and resolves when it prints "ready <info>" on stdout.
 * `extraStdio` adds descriptors from 3 on (e.g. 'pipe' for a socketpair).
 */
export function startServer(name: string, args: readonly string[], extraStdio: StdioOptions = []): Promise<StartedServer> {
  const stdio = ['ignore', 'pipe', 'inherit', ...(extraStdio as unknown[])] as StdioOptions;
  const child = track(spawn(process.execPath, [...process.execArgv, serverModule(name), ...args], { stdio }));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${name} did not become ready within 20 s`)), 20_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      expectExit(child);
      child.kill('SIGKILL');
      reject(error);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`${name} exited (${code ?? signal}) before it was ready: ${out}`));
    child.once('error', fail);
    child.once('exit', onExit);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^ready (.*)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({ child, info: match[1]! });
      }
    });
  });
}

/**
 * Stops a server: SIGTERM first, so it exits through process.exit() (which
 * lets `node --cpu-prof` write the server's profile), SIGKILL after 1 s.
 */
export async function stopServer(child: ChildProcess): Promise<void> {
  expectExit(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
  await gone;
  clearTimeout(timer);
}

/**
 * Called by every server: exits when the parent (the measuring client) is
 * gone, so a killed client never leaves a server running. Re-parenting
 * changes process.ppid; polling it twice a second costs nothing measurable.
 * SIGTERM exits through process.exit() so profilers get to write their output.
 */
export function exitWithParent(): void {
  process.once('SIGTERM', () => process.exit(0));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 500).unref();
}

/** The CPUs a process may run on (Cpus_allowed_list from /proc), or '?' off Linux. */
export function allowedCpus(pid: number | 'self' = 'self'): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '?';
  } catch {
    return '?';
  }
}
