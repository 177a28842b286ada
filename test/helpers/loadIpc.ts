import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIXTURE_EXEC_ARGV, fixturePath } from './processes.js';
import type { ProcessSnapshot } from './loadStats.js';

/**
 * Load, churn and soak runs steer their processes over Node's IPC channel
 * (not over procwire), so that asking a server how many descriptors it has
 * open neither opens one nor adds a connection: the channel exists from
 * before the baseline to after the last measurement.
 */

export interface IpcMessage {
  readonly type: string;
  readonly id?: number;
  readonly [key: string]: unknown;
}

export interface IpcProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `message` and resolves with the answer carrying the same id. */
  request<T extends IpcMessage>(message: IpcMessage, timeoutMs?: number): Promise<T>;
  /** Resolves with the next message of `type` the process sends by itself (queued if it came already). */
  next<T extends IpcMessage>(type: string, timeoutMs?: number): Promise<T>;
  /** Calls `listener` for every message of `type` the process sends by itself. */
  on(type: string, listener: (message: IpcMessage) => void): void;
  send(message: IpcMessage): void;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a Node process running `script` (a fixture name such as
 * 'loadServer.ts', or an absolute path) with an IPC channel and GC exposed,
 * so its snapshots are taken after a full collection, plus `nodeFlags`. A
 * message of type 'fatal' from it rejects whatever waits.
 */
export function startIpcProcess(
  script: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
  nodeFlags: readonly string[] = [],
): IpcProcess {
  const path = script.startsWith('/') ? script : fixturePath(script);
  const child = spawn(process.execPath, [...FIXTURE_EXEC_ARGV, '--expose-gc', ...nodeFlags, path, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const answers = new Map<number, (message: IpcMessage) => void>();
  const queued = new Map<string, IpcMessage[]>();
  const waiting = new Map<string, Array<(message: IpcMessage) => void>>();
  const listeners = new Map<string, (message: IpcMessage) => void>();
  const failures = new Set<(error: Error) => void>();
  let fatal: Error | undefined;
  let nextId = 1;

  const fail = (error: Error) => {
    fatal ??= error;
    for (const reject of [...failures]) reject(fatal);
  };
  child.on('message', (message: IpcMessage) => {
    if (message.type === 'fatal') return fail(new Error(`${path} (pid ${child.pid}): ${String(message.error)}`));
    if (message.id !== undefined && answers.has(message.id)) {
      const answer = answers.get(message.id)!;
      answers.delete(message.id);
      return answer(message);
    }
    const listener = listeners.get(message.type);
    if (listener) return listener(message);
    const waiter = waiting.get(message.type)?.shift();
    if (waiter) return waiter(message);
    queued.set(message.type, [...(queued.get(message.type) ?? []), message]);
  });
  void exited.then(({ code, signal }) => fail(new Error(`${path} (pid ${child.pid}) exited (${code ?? signal})`)));

  /** Waits for `register` to be called back, failing on a fatal message, an exit or the timeout. */
  const wait = <T>(what: string, timeoutMs: number, register: (resolve: (message: IpcMessage) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (fatal) return reject(fatal);
      const timer = setTimeout(() => done(new Error(`${path} (pid ${child.pid}): no ${what} within ${timeoutMs} ms`)), timeoutMs);
      const onFail = (error: Error) => done(error);
      failures.add(onFail);
      function done(error?: Error, message?: IpcMessage) {
        clearTimeout(timer);
        failures.delete(onFail);
        if (error) reject(error);
        else resolve(message as T);
      }
      register((message) => done(undefined, message));
    });

  return {
    child,
    pid: child.pid!,
    exited,
    request<T extends IpcMessage>(message: IpcMessage, timeoutMs = 60_000) {
      const id = nextId++;
      return wait<T>(`answer to ${message.type}`, timeoutMs, (resolve) => {
        answers.set(id, resolve);
        child.send({ ...message, id });
      });
    },
    next<T extends IpcMessage>(type: string, timeoutMs = 60_000) {
      const early = queued.get(type)?.shift();
      if (early) return Promise.resolve(early as T);
      return wait<T>(`"${type}" message`, timeoutMs, (resolve) => {
        waiting.set(type, [...(waiting.get(type) ?? []), resolve]);
      });
    },
    on(type, listener) {
      listeners.set(type, listener);
    },
    send(message) {
      child.send(message);
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/**
 * Stops a process that is still running after a failure: SIGTERM first, so
 * a server removes its named objects itself, then SIGKILL after `graceMs`.
 */
export async function stopProcess(p: IpcProcess, graceMs = 3000): Promise<void> {
  const exited = await Promise.race([p.kill('SIGTERM').then(() => true), sleep(graceMs).then(() => false)]);
  if (!exited) await p.kill('SIGKILL');
}

/**
 * The child's half: answers each request with what `handle` returns (its id
 * copied), and reports a handler that throws as 'fatal'.
 */
export function answerRequests(handle: (message: IpcMessage) => Promise<IpcMessage | undefined> | IpcMessage | undefined): void {
  process.on('message', (message: IpcMessage) => {
    void (async () => {
      try {
        const answer = await handle(message);
        if (answer) process.send!({ ...answer, id: message.id });
      } catch (error) {
        reportFatal(error);
      }
    })();
  });
}

/** Tells the parent this process cannot go on (the parent's waits reject with it). */
export function reportFatal(error: unknown): void {
  const text = error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
  if (process.send && process.connected) process.send({ type: 'fatal', error: text });
  else process.stderr.write(`fatal: ${text}\n`);
}

/** The processes a test file starts, stopped after each test (pass `stopAll` to afterEach). */
export function processTracker(): { track(p: IpcProcess): IpcProcess; stopAll(): Promise<void> } {
  const running: IpcProcess[] = [];
  return {
    track(p) {
      running.push(p);
      return p;
    },
    async stopAll() {
      await Promise.all(running.splice(0).map((p) => stopProcess(p)));
    },
  };
}

/** Asks a process started with startIpcProcess for its resource snapshot. */
export async function snapshot(p: IpcProcess): Promise<ProcessSnapshot> {
  return (await p.request<IpcMessage & { snapshot: ProcessSnapshot }>({ type: 'snapshot' })).snapshot;
}
