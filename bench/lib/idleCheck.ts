/**
 * The idle check: a server and a client hold a procwire connection open
 * and do nothing for a few seconds while the runner reads both processes'
 * CPU time from /proc. A transport that polls, or keeps a timer running,
 * shows up here; one that sleeps in the kernel until there is work uses
 * nothing measurable. Unix sockets (epoll) are the comparison.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cpuUsed, sampleCpu, type CpuUse } from './procStat.js';

export interface IdleCheck {
  /** Also what `--only` matches (lib/args.ts `selects`). */
  readonly id: string;
  readonly transport: string;
  url(socketDir: string): string;
}

export const IDLE_CHECKS: readonly IdleCheck[] = [
  { id: 'idle/shm-sleep', transport: 'shm sleep', url: () => `shm:///procwire-idle-${process.pid}?wait=sleep` },
  { id: 'idle/unix', transport: 'unix', url: (dir) => `unix://${join(dir, 'procwire-idle.sock')}` },
];

export interface IdleResult {
  readonly id: string;
  readonly transport: string;
  readonly url: string;
  readonly seconds: number;
  readonly client?: CpuUse;
  readonly server?: CpuUse;
  /** Client + server time on a CPU over the window, ms: schedstat, or utime+stime where schedstat is missing. */
  readonly totalMs?: number;
  /** Seconds from starting the client to the window, and whether a quiet second was seen before it. */
  readonly settleSeconds?: number;
  readonly settled?: boolean;
  /** Why it was not measured. */
  readonly error?: string;
}

/**
 * V8's memory reducer runs up to three full GCs, 8 s apart, once a process
 * goes quiet after allocating (10-70 ms of CPU each here, on helper
 * threads too): V8 tidying up after start-up, not the connection's cost,
 * and it would land in any window of the first ~30 s. The idle processes
 * run without it; everything else is Node as users run it.
 */
const NODE_FLAGS = ['--no-memory-reducer'];
/** The window starts at least this long after the client was started (module loading, JIT). */
const SETTLE_AFTER_START_MS = 3_000;
/** Then it waits for a quiet second (both processes under QUIET_MS), for at most SETTLE_MAX_MS more. */
const QUIET_MS = 0.5;
const SETTLE_MAX_MS = 20_000;
const READY_TIMEOUT_MS = 20_000;

/** Starts an idle process and resolves once it printed "ready". */
function startIdle(name: string, url: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL(`../idle/${name}`, import.meta.url));
  // stdin is a pipe from the runner: it closes when the runner exits, however it exits, and the process goes with it.
  const child = spawn(process.execPath, [...process.execArgv, ...NODE_FLAGS, script, url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      stopIdle(child);
      reject(new Error(`${name} ${why}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
    };
    const timer = setTimeout(() => fail(`was not ready within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => fail(`exited (${code ?? signal}) before it was ready`);
    child.once('exit', onExit);
    child.once('error', (error) => fail(error.message));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^ready\b/m.test(stdout)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(child);
      }
    });
  });
}

function stopIdle(child: ChildProcess): void {
  child.stdin?.end();
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 1000).unref();
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Waits until both processes used under QUIET_MS of CPU in one second, so
 * the window does not start inside a start-up GC; false when that did not
 * happen within SETTLE_MAX_MS (the window then starts anyway: a process that
 * is never quiet is what the check is for).
 */
async function quietSecond(children: readonly ChildProcess[]): Promise<boolean> {
  const until = Date.now() + SETTLE_MAX_MS;
  while (Date.now() < until) {
    const before = children.map((c) => sampleCpu(c.pid!));
    await delay(1000);
    const used = children.map((c, k) => {
      const use = cpuUsed(before[k]!, sampleCpu(c.pid!));
      return use.runMs ?? use.tickMs;
    });
    if (used.every((ms) => ms < QUIET_MS)) return true;
  }
  return false;
}

export async function runIdleCheck(check: IdleCheck, socketDir: string, seconds: number): Promise<IdleResult> {
  const url = check.url(socketDir);
  const base = { id: check.id, transport: check.transport, url, seconds };
  const started: ChildProcess[] = [];
  try {
    const server = await startIdle('idleServer.ts', url);
    started.push(server);
    const clientStarted = Date.now();
    const client = await startIdle('idleClient.ts', url);
    started.push(client);
    await delay(Math.max(0, clientStarted + SETTLE_AFTER_START_MS - Date.now()));
    const settled = await quietSecond([client, server]);
    const before = [sampleCpu(client.pid!), sampleCpu(server.pid!)] as const;
    await delay(seconds * 1000);
    // A process that died during the window did not idle: no figure rather than a partial one.
    if (!alive(client) || !alive(server)) throw new Error(`the ${alive(client) ? 'server' : 'client'} exited during the idle window`);
    const clientUse = cpuUsed(before[0], sampleCpu(client.pid!));
    const serverUse = cpuUsed(before[1], sampleCpu(server.pid!));
    const ms = (use: CpuUse) => use.runMs ?? use.tickMs;
    return {
      ...base,
      settleSeconds: (Date.now() - clientStarted) / 1000 - seconds,
      settled,
      client: clientUse,
      server: serverUse,
      totalMs: ms(clientUse) + ms(serverUse),
    };
  } catch (error) {
    return { ...base, error: (error as Error).message };
  } finally {
    for (const child of started) stopIdle(child);
  }
}
