/**
 * Child processes of the tour. Each runs a TypeScript file under the same
 * Node and loader flags as the tour (tsx), without a wrapper process, so the
 * pid we hold is the program itself. Each child leads its own process group,
 * so killing the group also ends a worker the child spawned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TsProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** The last lines of stderr, for failure reasons. */
  stderrTail(lines?: number): string;
  /** Resolves with the first stdout match of `pattern`; rejects on exit or after `ms`. */
  waitFor(pattern: RegExp, ms: number): Promise<RegExpExecArray>;
  /** Resolves once the process has exited; rejects after `ms`. */
  waitExit(ms: number): Promise<Exit>;
  /** SIGTERM, then after `graceMs` SIGKILL to the whole group. */
  stop(graceMs: number): Promise<Exit>;
}

const live = new Set<ChildProcess>();

export function startTs(file: URL, args: string[]): TsProcess {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(file), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  // 'close' rather than 'exit': by then stdout and stderr are fully read.
  const exited = once(child, 'close').then(([code, signal]) => {
    live.delete(child);
    return { code, signal } as Exit;
  });
  const exitedOrTimeout = (ms: number, what: string) =>
    Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms).unref())]);

  return {
    child,
    exited,
    stdout: () => out,
    stderrTail: (lines = 3) => err.trim().split('\n').slice(-lines).join(' | '),
    waitExit: (ms) => exitedOrTimeout(ms, 'did not exit'),
    async waitFor(pattern, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const match = pattern.exec(out);
        if (match) return match;
        if (live.has(child) === false) throw new Error(`exited before printing ${pattern}`);
        if (Date.now() > deadline) throw new Error(`did not print ${pattern} within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop(graceMs) {
      if (live.has(child)) child.kill('SIGTERM');
      try {
        return await exitedOrTimeout(graceMs, 'did not stop on SIGTERM');
      } catch {
        killGroup(child);
        return exited;
      }
    },
  };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills every child still running, with its workers. Synchronous, so it can run in an 'exit' handler. */
export function killAll(): void {
  for (const child of live) killGroup(child);
  live.clear();
}
