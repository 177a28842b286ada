/**
 * Named semaphores across real processes: permits exclude each other, a
 * release wakes a waiter elsewhere through the doorbell, a SIGKILLed holder's
 * permit comes back within the recovery latency, and the files are private.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, openSemaphore, ProcwireError, removeSemaphore, type Semaphore } from 'procwire';
import { SEMAPHORE_RECOVERY_MS } from 'procwire/link';
import { codeOf } from '../helpers/errors.js';
import { watchLoopLag } from '../helpers/loopLag.js';
import { FIXTURES, uniqueName } from '../helpers/processes.js';

// A runtime directory of this test file alone; children inherit it.
const runtime = mkdtempSync(join(tmpdir(), 'pw-sem-'));
process.env.XDG_RUNTIME_DIR = runtime;
afterAll(() => rmSync(runtime, { recursive: true, force: true }));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A unique semaphore name, removed after the test. */
function semName(): string {
  const name = uniqueName('sem');
  cleanups.push(() => {
    try {
      removeSemaphore(name);
    } catch {
      // still open somewhere (a failed test): the directory goes in afterAll
    }
  });
  return name;
}

function open(name: string, permits?: number): Semaphore {
  const sem = openSemaphore(name, permits === undefined ? {} : { permits });
  cleanups.push(() => sem.close());
  return sem;
}

const now = () => performance.timeOrigin + performance.now();
const openFds = () => readdirSync('/proc/self/fd').length;

/** A child process running test/fixtures/<fixture>, whose stdout lines can be awaited. */
interface Child {
  readonly process: ChildProcess;
  /** The next line (not yet consumed) matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  send(command: string): void;
  exited: Promise<unknown>;
}

function startChild(fixture: string, args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, fixture), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanups.push(() => child.kill('SIGKILL'));
  const lines: string[] = [];
  const wanted: Array<() => boolean> = [];
  let gone: string | undefined;
  child.once('close', (code, signal) => {
    gone = `${fixture} exited (${code ?? signal})`;
    for (const check of [...wanted]) check();
  });
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const check of [...wanted]) check();
  });
  return {
    process: child,
    exited,
    send: (command) => child.stdin!.write(`${command}\n`),
    line: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${fixture}: no line matching ${pattern}; got ${JSON.stringify(lines)}`)),
          timeoutMs,
        );
        const check = () => {
          const at = lines.findIndex((line) => pattern.test(line));
          if (at < 0 && gone !== undefined) {
            wanted.splice(wanted.indexOf(check), 1);
            clearTimeout(timer);
            reject(new Error(`${gone} before a line matching ${pattern}; got ${JSON.stringify(lines)}`));
            return true;
          }
          if (at < 0) return false;
          const [line] = lines.splice(at, 1);
          wanted.splice(wanted.indexOf(check), 1);
          clearTimeout(timer);
          resolve(pattern.exec(line!)!);
          return true;
        };
        wanted.push(check);
        check();
      }),
  };
}

const HELD = /^held (\d+) ([\d.]+)$/;
const RELEASED = /^released ([\d.]+)$/;

describe.skipIf(process.platform !== 'linux')('named semaphores', () => {
  it('permits are exclusive across processes, and a release wakes a waiter in another process through the doorbell', async () => {
    const name = semName();
    const holders = [startChild('semaphoreHolder.ts', [name, '2']), startChild('semaphoreHolder.ts', [name, '2'])];
    const indices = await Promise.all(holders.map(async (holder) => Number((await holder.line(HELD))[1])));
    expect(indices.sort()).toEqual([0, 1]);
    const sem = open(name, 2);
    expect(sem.tryAcquire()).toBeUndefined();

    // The recovery poll alone would take 0..SEMAPHORE_RECOVERY_MS; the bell must be far quicker, every time.
    const [first] = holders as [Child, Child];
    for (let trial = 0; trial < 3; trial++) {
      const waiting = sem.acquire({ timeoutMs: 10_000 });
      let settled = false;
      void waiting.then(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(settled).toBe(false);
      const lag = watchLoopLag();
      first.send('release');
      const permit = await waiting;
      const wokenAt = now();
      // Plus however late this process's event loop ran (a busy machine), which the bell cannot help.
      const worstLag = lag.stop();
      const releasedAt = Number((await first.line(RELEASED))[1]);
      expect(wokenAt - releasedAt).toBeLessThan(50 + worstLag);
      expect(sem.tryAcquire()).toBeUndefined();
      // Give it back: the child waits for it and gets the same index.
      first.send('acquire');
      permit.release();
      expect(Number((await first.line(HELD))[1])).toBe(permit.index);
    }
  });

  it('no two holders in any process ever hold more than `permits`, or the same index, at once', async () => {
    const name = semName();
    const log = join(runtime, `${name}.log`);
    cleanups.push(() => rmSync(log, { force: true }));
    // Started together, so they also race to create the semaphore.
    const workers = Array.from({ length: 4 }, () => startChild('semaphoreWorker.ts', [name, '2', '40', log]));
    const codes = await Promise.all(workers.map((worker) => worker.exited.then(() => worker.process.exitCode)));
    expect(codes).toEqual([0, 0, 0, 0]);
    const inside = new Set<string>();
    let most = 0;
    const events = readFileSync(log, 'utf8').trim().split('\n');
    expect(events).toHaveLength(4 * 40 * 2);
    for (const event of events) {
      const index = event.slice(1);
      if (event.startsWith('+')) {
        expect(inside.has(index)).toBe(false);
        inside.add(index);
        most = Math.max(most, inside.size);
      } else {
        expect(inside.delete(index)).toBe(true);
      }
    }
    expect(most).toBeLessThanOrEqual(2);
    expect(inside.size).toBe(0);
  });

  it('the permit of a holder killed with SIGKILL reaches a waiter within the recovery latency', async () => {
    const name = semName();
    const holder = startChild('semaphoreHolder.ts', [name, '1']);
    await holder.line(HELD);
    const sem = open(name, 1);
    const waiting = sem.acquire({ timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const killedAt = now();
    holder.process.kill('SIGKILL');
    const permit = await waiting;
    const latency = now() - killedAt;
    // Process teardown and a busy 2-vCPU machine add to the poll interval; the bound stays well below a second.
    expect(latency).toBeLessThan(SEMAPHORE_RECOVERY_MS + 400);
    expect(permit.index).toBe(0);
    permit.release();
  });

  it('a waiter in another process gets the permit when this one is released or its semaphore closed', async () => {
    const name = semName();
    const sem = open(name, 1);
    const permit = sem.tryAcquire()!;
    const waiter = startChild('semaphoreHolder.ts', [name]);
    await waiter.line(/^waiting$/);
    permit.release();
    await waiter.line(HELD);
    waiter.send('release');
    await waiter.line(RELEASED);
    const again = sem.tryAcquire();
    expect(again).toBeDefined();
    waiter.send('acquire');
    await waiter.line(/^waiting$/);
    sem.close(); // releases `again`
    await waiter.line(HELD);
  });

  it('a pending acquire keeps its process alive; an open semaphore and a held permit do not', async () => {
    const name = semName();
    const sem = open(name, 1);
    const permit = sem.tryAcquire()!;
    const child = startChild('semaphoreIdle.ts', [name]);
    await child.line(/^waiting$/);
    await new Promise((resolve) => setTimeout(resolve, 3 * SEMAPHORE_RECOVERY_MS));
    expect(child.process.exitCode).toBeNull();
    permit.release();
    await child.line(/^held$/);
    await child.exited;
    expect(child.process.exitCode).toBe(0);
  });

  it('every descriptor it opens is close-on-exec, so no child process ever inherits a permit', async () => {
    const name = semName();
    const sem = open(name, 2);
    const held = sem.tryAcquire()!;
    const other = sem.tryAcquire()!;
    const pending = sem.acquire(); // listening on the doorbell
    const dir = dirname(sem.path);
    const ours = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(join(dir, `sem-${name}.`));
      } catch {
        return false; // the directory's own descriptor, gone by now
      }
    });
    expect(ours.length).toBeGreaterThanOrEqual(5); // open lock, two permits, the doorbell's two ends
    for (const fd of ours) {
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!;
      expect(parseInt(flags, 8) & 0o2000000).not.toBe(0);
    }
    other.release();
    (await pending).release();
    held.release();
  });

  it('timeoutMs rejects with TIMEOUT naming the semaphore, after about that long', async () => {
    const name = semName();
    const sem = open(name, 1);
    using held = sem.tryAcquire()!;
    expect(held.released).toBe(false);
    const startedAt = now();
    const error = await sem.acquire({ timeoutMs: 150 }).catch((e: unknown) => e);
    expect(now() - startedAt).toBeGreaterThanOrEqual(145);
    expect(error).toBeInstanceOf(ProcwireError);
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT });
    expect((error as Error).message).toContain(`"${name}"`);
  });

  it('an AbortSignal rejects a pending acquire with CANCELLED, and an aborted one at once', async () => {
    const name = semName();
    const sem = open(name, 1);
    using _held = sem.tryAcquire()!;
    const controller = new AbortController();
    const pending = sem.acquire({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error('enough')), 30);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.CANCELLED });
    expect((error as Error).message).toContain(`"${name}"`);
    expect((error as Error).cause).toEqual(new Error('enough'));
    expect(await codeOf(sem.acquire({ signal: AbortSignal.abort() }))).toBe(ErrorCode.CANCELLED);
  });

  it('`using` releases a permit at the end of its scope, and a semaphore too', async () => {
    const name = semName();
    {
      using sem = openSemaphore(name, { permits: 1 });
      {
        using permit = await sem.acquire();
        expect(permit.index).toBe(0);
        expect(sem.tryAcquire()).toBeUndefined();
      }
      using again = sem.tryAcquire();
      expect(again).toBeDefined();
    }
    const other = open(name);
    using permit = other.tryAcquire();
    expect(permit).toBeDefined(); // the closed semaphore held nothing any more
  });

  it('close() rejects pending acquires with CLOSED and releases the permits still held; release() stays idempotent', async () => {
    const name = semName();
    const a = open(name, 2);
    const b = open(name, 2);
    const held = [a.tryAcquire()!, a.tryAcquire()!];
    const pending = a.acquire();
    a.close();
    expect(await codeOf(pending)).toBe(ErrorCode.CLOSED);
    expect(held.every((permit) => permit.released)).toBe(true);
    held[0]!.release();
    held[0]!.release();
    expect(() => a.tryAcquire()).toThrow(expect.objectContaining({ code: ErrorCode.CLOSED }));
    expect(await codeOf(a.acquire())).toBe(ErrorCode.CLOSED);
    const both = [b.tryAcquire(), b.tryAcquire()];
    expect(both.map((permit) => permit?.index)).toEqual([0, 1]);
  });

  it('two semaphore objects in one process exclude each other like two processes', () => {
    const name = semName();
    const a = open(name, 1);
    const b = open(name, 1);
    const permit = a.tryAcquire()!;
    expect(b.tryAcquire()).toBeUndefined();
    permit.release();
    expect(b.tryAcquire()?.index).toBe(0);
  });

  it('creates both files exactly 0600 under umask 000', async () => {
    const name = semName();
    const child = startChild('semaphoreUmask.ts', [name, '3']);
    const [line] = await child.line(/^\{.*\}$/);
    expect(JSON.parse(line)).toEqual({ lock: { type: 'file', mode: '600' }, bell: { type: 'fifo', mode: '600' }, dir: '700' });
    expect(open(name).permits).toBe(3);
  });

  it('a different permit count is refused with a clear error; leaving it out takes the existing count', () => {
    const name = semName();
    open(name, 3);
    let error: unknown;
    try {
      openSemaphore(name, { permits: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: ErrorCode.ADDRESS_IN_USE });
    expect((error as Error).message).toMatch(/exists with 3 permits, not 2/);
    expect(open(name).permits).toBe(3);
  });

  it('refuses files open to group or others, a lock file that is not one, and symbolic links', () => {
    const name = semName();
    const sem = open(name, 1);
    const bell = join(dirname(sem.path), `sem-${name}.bell`);
    sem.close();
    const refused = (path: string) => {
      try {
        openSemaphore(name).close();
      } catch (error) {
        expect(error).toMatchObject({ code: ErrorCode.ADDRESS_IN_USE });
        expect((error as Error).message).toContain(path);
        return true;
      }
      return false;
    };
    chmodSync(sem.path, 0o640);
    expect(refused(sem.path)).toBe(true);
    chmodSync(sem.path, 0o600);
    chmodSync(bell, 0o606);
    expect(refused(bell)).toBe(true);
    chmodSync(bell, 0o600);
    expect(refused(sem.path)).toBe(false);
    expect(lstatSync(sem.path).mode & 0o777).toBe(0o600); // nothing was "fixed" behind our back
    const valid = readFileSync(sem.path);
    writeFileSync(sem.path, 'procwire-semaphore/1 permits=0\n');
    expect(refused(sem.path)).toBe(true);
    writeFileSync(sem.path, valid);
    const target = `${sem.path}.target`;
    cleanups.push(() => rmSync(target, { force: true }));
    renameSync(sem.path, target);
    symlinkSync(target, sem.path);
    expect(refused(sem.path)).toBe(true);
    rmSync(sem.path);
    renameSync(target, sem.path);
    expect(refused(sem.path)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('as root, refuses a lock file or doorbell owned by another user and never removes them', () => {
    const NOBODY = 65534;
    const name = semName();
    const sem = open(name, 1);
    const bell = join(dirname(sem.path), `sem-${name}.bell`);
    sem.close();
    for (const path of [sem.path, bell]) {
      chownSync(path, NOBODY, NOBODY);
      let error: unknown;
      try {
        openSemaphore(name);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: ErrorCode.ADDRESS_IN_USE });
      expect((error as Error).message).toContain(`belongs to another user (uid ${NOBODY})`);
      expect(() => removeSemaphore(name)).toThrow(expect.objectContaining({ code: ErrorCode.ADDRESS_IN_USE }));
      expect(existsSync(path)).toBe(true);
      chownSync(path, 0, 0);
    }
  });

  it('removeSemaphore removes the files only when no process has it open', async () => {
    const name = semName();
    const sem = open(name, 1);
    const bell = join(dirname(sem.path), `sem-${name}.bell`);
    expect(await codeOfSync(() => removeSemaphore(name))).toBe(ErrorCode.ADDRESS_IN_USE);
    sem.close();
    const holder = startChild('semaphoreHolder.ts', [name]);
    await holder.line(HELD);
    expect(await codeOfSync(() => removeSemaphore(name))).toBe(ErrorCode.ADDRESS_IN_USE);
    holder.process.kill('SIGKILL');
    await holder.exited;
    expect(removeSemaphore(name)).toBe(true);
    expect([existsSync(sem.path), existsSync(bell)]).toEqual([false, false]);
    expect(removeSemaphore(name)).toBe(false);
  });

  it('bad names, permit counts and options are INVALID_ARGUMENT', async () => {
    for (const name of ['', 'a/b', '../x', 'x'.repeat(201), 'sp ace', 42 as unknown as string]) {
      expect(await codeOfSync(() => openSemaphore(name))).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(await codeOfSync(() => removeSemaphore(name))).toBe(ErrorCode.INVALID_ARGUMENT);
    }
    const name = semName();
    for (const permits of [0, 1025, 1.5, Number.NaN, '2' as unknown as number]) {
      expect(await codeOfSync(() => openSemaphore(name, { permits }))).toBe(ErrorCode.INVALID_ARGUMENT);
    }
    expect(existsSync(join(runtime, `procwire-${process.getuid!()}`, `sem-${name}.lock`))).toBe(false);
    const sem = open(name, 1024);
    expect(sem.permits).toBe(1024);
    expect(await codeOf(sem.acquire({ timeoutMs: -1 }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(sem.acquire({ signal: {} as AbortSignal }))).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it('leaks no descriptors over many acquire, wait, timeout and release cycles', async () => {
    const name = semName();
    const before = openFds();
    const sem = openSemaphore(name, { permits: 2 });
    for (let i = 0; i < 300; i++) sem.tryAcquire()!.release();
    const a = sem.tryAcquire()!;
    for (let i = 0; i < 50; i++) {
      const b = sem.tryAcquire()!;
      const waiting = sem.acquire({ timeoutMs: 5_000 });
      setImmediate(() => b.release());
      (await waiting).release();
      expect(await codeOf(sem.acquire({ timeoutMs: 1, signal: AbortSignal.abort() }))).toBe(ErrorCode.CANCELLED);
    }
    const b = sem.tryAcquire()!;
    expect(await codeOf(sem.acquire({ timeoutMs: 20 }))).toBe(ErrorCode.TIMEOUT);
    // Held: one descriptor per permit, plus a few idle ones kept for reuse and the semaphore's own.
    expect(openFds() - before).toBeLessThanOrEqual(2 + 4 + 1);
    a.release();
    b.release();
    sem.close();
    expect(openFds()).toBe(before);
  });
});

/** The ProcwireError code a synchronous call throws. */
function codeOfSync(call: () => unknown): Promise<string> {
  return codeOf(Promise.resolve().then(call));
}
