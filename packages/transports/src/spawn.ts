import { spawn as spawnProcess, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, ErrorCode, ProcwireError, type Channel, type Client, type Link } from '@procwire/core';
import { interceptLink } from './links/interceptLink.js';
import { PARENT_PID_ENV } from './inherited/parentDeath.js';
import { inheritedTransports } from './registry.js';
import type { ConnectOptions } from './serve.js';
import { checkConnectOptions, checkSpawnOptions, rejectTcpOnlyOptions } from './options.js';

/**
 * How long spawn() waits for the worker's hello by default. It covers the
 * worker's start-up (Node, its loaders, the app's modules), which takes
 * seconds for an ordinary app on a busy machine, so it is the call timeout
 * rather than connect()'s 5 s. A worker that dies first is reported at once
 * (PEER_GONE with its exit status), never after this wait.
 */
const DEFAULT_SPAWN_HANDSHAKE_TIMEOUT_MS = 30_000;

export interface SpawnOptions extends ConnectOptions {
  /** How the worker is reached: a full-duplex socketpair (default) or two anonymous pipes. */
  readonly via?: 'socketpair:' | 'pipe:';
  /** Arguments after the module path. */
  readonly args?: readonly string[];
  /** Extra environment variables (merged over this process's environment). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Node options for the worker (default: this process's, so loaders such as tsx carry over). */
  readonly execArgv?: readonly string[];
  /** The worker's stdin, stdout and stderr (default: inherited). */
  readonly stdio?: 'inherit' | 'ignore' | 'pipe';
  /** After close(), how long the worker may take to exit before SIGTERM (default 5 s). */
  readonly exitTimeoutMs?: number;
}

/** A client of a worker process, plus the process itself. */
export type Worker<C extends Channel<any>> = Client<C> & {
  /** The worker's ChildProcess. */
  readonly process: ChildProcess;
  /** Resolves with how the worker exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** How long to wait for the exit status when the link drops, to name it in PEER_GONE. */
const EXIT_STATUS_WAIT_MS = 50;

function modulePath(module: string | URL): string {
  if (module instanceof URL) return fileURLToPath(module);
  if (typeof module !== 'string' || module.length === 0) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'spawn: module must be a path or a file: URL');
  }
  if (module.startsWith('file:')) return fileURLToPath(module);
  return isAbsolute(module) ? module : resolvePath(module);
}

/**
 * Starts `module` as a worker process and connects to the channel it serves
 * with `serve(channel, 'socketpair:', handlers)`.
 */
export async function spawn<C extends Channel<any>>(channel: C, module: string | URL, options: SpawnOptions = {}): Promise<Worker<C>> {
  // Everything checked before the worker starts: a bad option must not leave a process behind.
  const { limits } = checkConnectOptions(options, 'spawn');
  const { exitTimeoutMs } = checkSpawnOptions(options);
  if (options.reconnect !== undefined && options.reconnect !== false) {
    throw new ProcwireError(
      ErrorCode.INVALID_ARGUMENT,
      'spawn: reconnect is for dialled endpoints; a worker that exits is restarted by spawning it again',
    );
  }
  rejectTcpOnlyOptions('spawn', options);
  const via = options.via ?? 'socketpair:';
  const inherited = inheritedTransports();
  const transport = inherited.get(via);
  if (!transport) {
    throw new ProcwireError(
      ErrorCode.INVALID_ARGUMENT,
      `spawn: via must be one of ${[...inherited.keys()].map((v) => `'${v}'`).join(', ')} (got ${JSON.stringify(via)})`,
    );
  }
  const path = modulePath(module);
  const std = options.stdio ?? 'inherit';
  const wiring = transport.wiring();
  const stdio: StdioOptions = [std, std, std, ...wiring.stdio];
  let child: ChildProcess;
  try {
    child = spawnProcess(process.execPath, [...(options.execArgv ?? process.execArgv), path, ...(options.args ?? [])], {
      stdio,
      cwd: options.cwd,
      // PROCWIRE_ENDPOINT tells the worker which URL to serve (`serve(channel, process.env.PROCWIRE_ENDPOINT!, ...)`).
      env: { ...process.env, ...options.env, ...wiring.env, PROCWIRE_ENDPOINT: via, [PARENT_PID_ENV]: String(process.pid) },
    });
  } catch (error) {
    wiring.abandon();
    throw error;
  }
  wiring.afterSpawn();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const spawnFailed = once(child, 'spawn').then(
    () => undefined,
    (error: Error) => error,
  );
  const link = withExitStatus(wiring.parentLink(child, limits), child, exited);
  let client: Client<C>;
  try {
    const failure = await spawnFailed;
    if (failure) throw new ProcwireError(ErrorCode.CONNECT_FAILED, `spawn: cannot start ${path}: ${failure.message}`, { cause: failure });
    client = await createClient(channel, link, {
      ...options,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_SPAWN_HANDSHAKE_TIMEOUT_MS,
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const closeClient = client.close.bind(client);
  const close = async () => {
    await closeClient();
    await stopWorker(child, exited, exitTimeoutMs);
  };
  return Object.assign(client, {
    process: child,
    exited,
    close,
    [Symbol.asyncDispose]: close,
  }) as Worker<C>;
}

/** Waits for the worker to exit by itself; then SIGTERM, then SIGKILL. */
async function stopWorker(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(r, ms, false).unref())]);
  if (await within(graceMs)) return;
  child.kill('SIGTERM');
  if (await within(2000)) return;
  child.kill('SIGKILL');
  await exited;
}

/**
 * Wraps the worker's link so that when it drops, the PEER_GONE error says how
 * the worker ended (exit code or signal) when that is known quickly.
 */
function withExitStatus(inner: Link, child: ChildProcess, exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>): Link {
  return interceptLink(inner, (events) => ({
    close(error) {
      const timeout = new Promise<undefined>((r) => setTimeout(r, EXIT_STATUS_WAIT_MS, undefined).unref());
      void Promise.race([exited, timeout]).then((status) => {
        if (!status) return events.close(error);
        const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
        events.close(
          new ProcwireError(ErrorCode.PEER_GONE, `worker ${child.pid} ${how}`, {
            cause: error,
            data: { pid: child.pid, code: status.code, signal: status.signal },
          }),
        );
      });
    },
  }));
}
