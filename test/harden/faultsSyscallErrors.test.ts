/**
 * Faults: system calls that fail with EINTR or EAGAIN, on every Linux
 * transport. strace attaches to a running server (a fresh one per error)
 * and makes every 5th call of each I/O system call it uses fail
 * (`when=2+5`, counted per thread): reads, writes, descriptor passing, accept, FIFO opens, queue
 * sends and receives, and (EINTR only) the event loop's own epoll wait.
 * Meanwhile a client connects and makes hundreds of calls, multi-MB frames
 * both ways, a stream and a burst of events: every one must succeed with the
 * right result. The failures are injected without the call being made
 * (strace replaces it), so nothing is half done: the only correct reaction
 * is to retry or to wait for readiness again.
 *
 * Where each error is injected is where the kernel could return it:
 * - EINTR into every thread (-f): any blocking or interruptible call may be
 *   interrupted by a signal.
 * - EAGAIN into the event-loop thread only, where every descriptor procwire
 *   uses is non-blocking (the other threads block, where EAGAIN cannot
 *   happen), and not into two shm: calls where the kernel cannot return
 *   it: eventfd writes (an eventfd refuses a write with EAGAIN only when its
 *   counter is full, that is when the bell is already ringing, which
 *   procwire, like libuv's own wake-ups, relies on: a made-up EAGAIN there
 *   is a lost wake-up no kernel produces) and the rendezvous sendmsg (one
 *   short message per connection into the client's empty receive queue;
 *   Linux refuses a seqpacket send only when the receiver holds more than
 *   net.unix.max_dgram_qlen unread messages).
 *
 * Short writes need no injection: every multi-MB frame over a socket, pipe
 * or FIFO fills the peer's buffer, so the kernel takes it in pieces; the
 * trace counts them (a write that returned less than it was given).
 *
 * Needs strace (Debian package `strace`); attaching needs ptrace rights over
 * one's own children (root, or kernel.yama.ptrace_scope 0 or 1).
 */
import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from 'procwire';
import { faultChannel } from '../fixtures/faultChannel.js';
import {
  faultTransports,
  removeLeftovers,
  spawnFaultWorker,
  startFaultServer,
  waitFor,
  type FaultTransport,
} from '../fixtures/faultEndpoints.js';
import { recordHardening } from '../helpers/hardenTally.js';

const STRACE = '/usr/bin/strace';
const hasStrace = process.platform === 'linux' && spawnSync(STRACE, ['-V']).status === 0;

/** Every I/O system call some transport's server makes once it is running. */
const IO_CALLS = ['read', 'write', 'writev', 'readv', 'recvmsg', 'sendmsg', 'accept4', 'openat', 'mq_timedsend', 'mq_timedreceive'];
/** libuv's poll: EINTR is its documented interruption; EAGAIN is not a thing it can return (libuv aborts on it, rightly). */
const POLL_CALLS = ['epoll_wait', 'epoll_pwait', 'epoll_pwait2'];
/** EAGAIN from open() only ever means a lease or lock, which nothing here uses. */
const NOT_EAGAIN = new Set(['openat', ...POLL_CALLS]);

/** The names this machine's strace knows (epoll_wait is missing on arm64, for one). */
const known = (names: string[]) =>
  names.filter((name) => spawnSync(STRACE, ['-qq', '-o', '/dev/null', '-e', `trace=${name}`, 'true']).status === 0);

const dir = mkdtempSync(join(tmpdir(), 'pw-strace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Injection {
  readonly tracer: ChildProcess;
  readonly log: string;
  detach(): Promise<void>;
}

/**
 * Attaches strace to `pid` (every thread, or only the main one: the event
 * loop's), injecting `errno` into `calls`; resolves once attached.
 */
async function inject(pid: number, errno: 'EINTR' | 'EAGAIN', calls: string[], threads: 'all' | 'main'): Promise<Injection> {
  const log = join(dir, `${pid}-${errno}.log`);
  const set = calls.join(',');
  const follow = threads === 'all' ? ['-f'] : [];
  const tracer = spawnProcess(
    STRACE,
    [
      ...follow,
      '-qq',
      '-s',
      '0',
      '-e',
      'signal=none',
      '-e',
      `trace=${set}`,
      '-e',
      `inject=${set}:error=${errno}:when=2+5`,
      '-o',
      log,
      '-p',
      String(pid),
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => tracer.once('exit', resolve));
  const tasks = threads === 'all' ? () => readdirSync(`/proc/${pid}/task`) : () => [String(pid)];
  const traced = () => tasks().every((task) => /^TracerPid:\s+[1-9]/m.test(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8')));
  await waitFor(`strace attached to ${threads === 'all' ? 'every thread' : 'the main thread'} of ${pid}`, traced, 10_000);
  return {
    tracer,
    log,
    async detach() {
      if (tracer.exitCode === null) tracer.kill('SIGINT');
      await exited;
    },
  };
}

/** Injected failures by system call, and writes the kernel took only in part, from a strace log. */
function readTrace(log: string): { injected: Map<string, number>; shortWrites: number } {
  const injected = new Map<string, number>();
  let shortWrites = 0;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const call = /^(?:\d+\s+)?(\w+)\(/.exec(line)?.[1];
    if (!call) continue;
    if (line.includes('(INJECTED)')) injected.set(call, (injected.get(call) ?? 0) + 1);
    const returned = Number(/\)\s+=\s+(\d+)$/.exec(line)?.[1] ?? -1);
    if (returned <= 0) continue;
    let asked = -1;
    if (call === 'write') asked = Number(/, (\d+)\)\s+=\s+\d+$/.exec(line)?.[1] ?? -1);
    // writev lists each buffer's length; strace shortens long lists with "...", and then the sum is unknown.
    if (call === 'writev' && !line.includes('}, ...]'))
      asked = [...line.matchAll(/iov_len=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    if (asked > returned) shortWrites++;
  }
  return { injected, shortWrites };
}

/** A round of work whose every result is checked: returns how many checks were made and how many held. */
async function work(client: Client<typeof faultChannel>): Promise<{ tried: number; passed: number; failures: string[] }> {
  let tried = 0;
  let passed = 0;
  const failures: string[] = [];
  const check = async (what: string, run: () => Promise<boolean>) => {
    tried++;
    try {
      if (await run()) passed++;
      else failures.push(`${what}: wrong result`);
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  };
  for (let round = 0; round < 4; round++) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => check('add', async () => (await client.rpc.add({ a: i, b: round })) === i + round)),
    );
    const big = new Uint8Array(2_000_000).map((_, i) => (i * 13 + round) % 251);
    await check('2 MB echo', async () => Buffer.from((await client.rpc.echo(big)) as Uint8Array).equals(Buffer.from(big)));
    await check('2 MB reply', async () => {
      const bytes = await client.rpc.bytes({ size: 2_000_000 });
      return bytes.length === 2_000_000 && bytes.every((b) => b === 7);
    });
  }
  await check('stream of 3000', async () => {
    let next = 0;
    for await (const n of client.stream.count({ to: 3000 })) if (n === next) next++;
    return next === 3000;
  });
  await check('5000 events', async () => {
    const seen: number[] = [];
    const all = new Promise<void>((resolve) => {
      const listener = ({ n }: { n: number }) => {
        seen.push(n);
        if (seen.length === 5000) {
          client.off('tick', listener);
          resolve();
        }
      };
      client.on('tick', listener);
    });
    await client.rpc.emitTicks({ count: 5000 });
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    return seen.length === 5000 && seen.every((n, i) => n === i);
  });
  return { tried, passed, failures };
}

interface Target {
  readonly pid: number;
  /** A client made while the injection runs (listening transports), so accepting and handshakes get failures too. */
  client(): Promise<{ client: Client<typeof faultChannel>; close(): Promise<void> }>;
  readonly alive: () => boolean;
  /** SIGKILL. */
  kill(): Promise<void>;
}

async function startTarget(transport: FaultTransport): Promise<Target> {
  if (transport.via) {
    const worker = await spawnFaultWorker(transport.via);
    const kill = async () => {
      if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
      await worker.exited;
    };
    cleanups.push(kill);
    return {
      pid: worker.process.pid!,
      client: async () => ({ client: worker, close: async () => {} }),
      alive: () => worker.process.exitCode === null && worker.process.signalCode === null,
      kill,
    };
  }
  const server = await startFaultServer(transport.makeUrl!());
  const kill = async () => {
    await server.kill('SIGKILL');
    await removeLeftovers(server.url);
  };
  cleanups.push(kill);
  return {
    pid: server.child.pid!,
    client: async () => {
      const client = await connect(faultChannel, server.url);
      return { client, close: () => client.close() };
    },
    alive: () => server.child.exitCode === null && server.child.signalCode === null,
    kill,
  };
}

describe.skipIf(!hasStrace)("faults: EINTR and EAGAIN from the server's system calls (Linux, needs strace)", () => {
  const eintrCalls = hasStrace ? known([...IO_CALLS, ...POLL_CALLS]) : [];
  const eagainCalls = eintrCalls.filter((call) => !NOT_EAGAIN.has(call));

  for (const transport of faultTransports) {
    // See above: what the kernel never refuses with EAGAIN on shm:.
    const eagainHere = transport.name.startsWith('shm')
      ? eagainCalls.filter((call) => call !== 'write' && call !== 'sendmsg')
      : eagainCalls;
    const phases = [
      ['EINTR', eintrCalls, 'all'],
      ['EAGAIN', eagainHere, 'main'],
    ] as const;
    for (const [errno, calls, threads] of phases) {
      it(`${transport.name}: every call succeeds, correct, with ${errno} injected into the server`, async () => {
        // A fresh server per error, killed while still traced: detaching
        // strace between the entry and the exit of a call it fails leaves
        // that call failing with ENOSYS, which libuv rightly aborts on.
        const target = await startTarget(transport);
        const injection = await inject(target.pid, errno, [...calls], threads);
        cleanups.push(() => injection.detach());
        let outcome: Awaited<ReturnType<typeof work>>;
        let servedAfter = false;
        let aliveAtEnd = false;
        try {
          const { client, close } = await target.client();
          try {
            outcome = await work(client);
          } finally {
            await close();
          }
          // Still accepting and answering after all that.
          const again = await target.client();
          servedAfter = (await again.client.rpc.add({ a: 20, b: 22 })) === 42;
          await again.close();
        } finally {
          aliveAtEnd = target.alive();
          await target.kill();
          await injection.detach();
        }
        const { injected, shortWrites } = readTrace(injection.log);
        const total = [...injected.values()].reduce((a, b) => a + b, 0);
        const list = [...injected].map(([call, n]) => `${call} ${n}`).join(', ');
        recordHardening({
          section: 'faults',
          name: `${errno} injected into the server: ${transport.name}`,
          tried: outcome.tried + 1,
          passed: outcome.passed + (servedAfter ? 1 : 0),
          lost: outcome.tried - outcome.passed + (servedAfter ? 0 : 1),
          detail: `${total} failures injected (${list}); ${shortWrites} short writes${outcome.failures.length ? `; ${outcome.failures.slice(0, 3).join('; ')}` : ''}`,
        });
        expect(aliveAtEnd, 'the server process died').toBe(true);
        expect(outcome.failures).toEqual([]);
        expect(outcome.passed).toBe(outcome.tried);
        expect(servedAfter).toBe(true);
        // The injection hit the transport's own calls, not only the event
        // loop's (few for shm: with both sides busy it makes no system call).
        expect(total - (injected.get('epoll_pwait') ?? 0) - (injected.get('epoll_wait') ?? 0)).toBeGreaterThan(0);
      });
    }
  }
});
