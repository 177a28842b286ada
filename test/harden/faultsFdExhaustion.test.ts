/**
 * Faults: a server out of file descriptors, on every Linux transport that
 * spends descriptors per connection (unix path and abstract, tcp, fifo, mq,
 * shm). The running server's limit is lowered with prlimit(1) to 64, then
 * 100 clients connect at once (mq: see MQ below). Required:
 * - every client either is served or gets a ProcwireError (CONNECT_FAILED or
 *   PEER_GONE) within its handshake timeout, never a hang;
 * - with the limit then set exactly at the descriptors in use, more clients
 *   knocking must not make the server spin: its CPU time over 2 s is read
 *   from /proc (a listener that stays readable because accept() fails with
 *   EMFILE is the classic busy loop). The knocking clients run in a process
 *   of their own (a client that crashes shows as that process dying) and
 *   connect while the server is stopped (SIGSTOP), so that their first
 *   bytes wait unread when the server turns them away: the case where the
 *   kernel resets the connection instead of just closing it;
 * - the server does not crash, and once the clients are gone its descriptor
 *   count is back at its baseline and a new client is served, large frames
 *   included.
 */
import { execFileSync, spawn as spawnProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from 'procwire';
import { attempt, summary, type Attempt } from '../fixtures/faultAttempt.js';
import { faultChannel } from '../fixtures/faultChannel.js';
import {
  linesOf,
  listeningTransports,
  removeLeftovers,
  settle,
  startFaultServer,
  waitFor,
  type FaultTransport,
} from '../fixtures/faultEndpoints.js';
import { recordHardening } from '../helpers/hardenTally.js';
import { cpuShareOver, fdCount, fdTargets } from '../helpers/procStats.js';
import { FIXTURE_EXEC_ARGV, fixturePath, type ServerProcess } from '../helpers/processes.js';

const LIMIT = 64;
const CLIENTS = 100;
const KNOCKING = 10;
/** A client's handshake times out after 5 s (the default); this leaves room for a loaded machine. */
const SETTLED_WITHIN_MS = 8000;
/** Share of one CPU above which a server with nothing to do is spinning. */
const IDLE_SHARE = 0.1;
/**
 * MQ: every client queue takes ~80 KiB of the user's 800 KiB
 * RLIMIT_MSGQUEUE, shared by all processes of the user, so 100 clients
 * cannot exist at once. The server's limit is set just above its baseline
 * instead (one connection fits, as it costs two descriptors), and fewer
 * clients knock.
 */
const MQ = { headroom: 3, clients: 3, knocking: 1 };

const running: ServerProcess[] = [];
const clients: Array<Client<typeof faultChannel>> = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  for (const server of running.splice(0)) {
    await server.kill('SIGKILL');
    await removeLeftovers(server.url);
  }
});

function setLimit(pid: number, soft: number, hard: number): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:${hard}`]);
}

/** The lowest descriptor number `pid` does not use: the next one it would get, so a limit there refuses any new one. */
function lowestFreeFd(pid: number): number {
  const used = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
  let fd = 0;
  while (used.has(fd)) fd++;
  return fd;
}

/**
 * Starts faultKnock.ts; once it is loaded, stops the server, lets the
 * clients connect and write their first bytes, and resumes the server.
 * Resolves with the knocking process's attempts (or how it died).
 */
function knockWhileStopped(
  server: ServerProcess,
  clients: number,
): { resumed: Promise<void>; done: Promise<{ attempts: Attempt[]; crashed?: string }> } {
  const knock = spawnProcess(process.execPath, [...FIXTURE_EXEC_ARGV, fixturePath('faultKnock.ts'), server.url, String(clients)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  knock.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => knock.once('exit', (code) => resolve(code)));
  const output = linesOf(knock.stdout!);
  const resumed = (async () => {
    await output.next(/^ready$/);
    server.child.kill('SIGSTOP');
    knock.stdin!.write('go\n');
    await new Promise((resolve) => setTimeout(resolve, 500));
    server.child.kill('SIGCONT');
  })();
  const done = (async () => {
    await resumed;
    const result = await Promise.race([
      output.next(/^\[/, 20_000).then((m) => JSON.parse(m.input) as Attempt[]),
      exited.then(() => undefined),
    ]);
    const code = await exited;
    if (result && code === 0) return { attempts: result };
    return {
      attempts: result ?? [],
      crashed: `the knocking client process exited with ${code}: ${stderr.trim().split('\n').slice(0, 3).join(' | ')}`,
    };
  })();
  return { resumed, done };
}

async function exhaust(transport: FaultTransport) {
  const mq = transport.name === 'mq';
  const server = await startFaultServer(transport.makeUrl!());
  running.push(server);
  const pid = server.child.pid!;
  // One connection first: whatever a server opens lazily is open now.
  const warmUp = await connect(faultChannel, server.url);
  await warmUp.rpc.add({ a: 1, b: 1 });
  await warmUp.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const baseFds = fdCount(pid);
  const limit = mq ? lowestFreeFd(pid) + MQ.headroom : LIMIT;
  setLimit(pid, limit, limit);

  const keep = (client: Client<typeof faultChannel>) => void clients.push(client);
  const wave = await Promise.all(Array.from({ length: mq ? MQ.clients : CLIENTS }, (_, i) => attempt(server.url, i, keep)));
  const peakFds = fdCount(pid);

  // Exactly full: the next descriptor the server asks for is refused.
  setLimit(pid, lowestFreeFd(pid), limit);
  const knocking = knockWhileStopped(server, mq ? MQ.knocking : KNOCKING);
  // From the moment the server is resumed, with the knocking clients waiting.
  await knocking.resumed;
  const cpu = await cpuShareOver(pid, 2000);
  const knocked = await knocking.done;
  setLimit(pid, limit, limit);

  await Promise.all(clients.splice(0).map((c) => c.close()));
  const fdsBack = await waitFor(`the server's descriptors are back at ${baseFds}`, () => fdCount(pid) === baseFds, 5000).then(
    () => true,
    () => false,
  );
  const leftFds = fdsBack ? [] : fdTargets(pid);
  const after = await settle(
    (async () => {
      const client = await connect(faultChannel, server.url);
      clients.push(client);
      const big = new Uint8Array(1_000_000).map((_, i) => i % 253);
      const ok =
        (await client.rpc.add({ a: 2, b: 3 })) === 5 && Buffer.from((await client.rpc.echo(big)) as Uint8Array).equals(Buffer.from(big));
      if (!ok) throw new Error('wrong result');
    })(),
  );
  const alive = server.child.exitCode === null && server.child.signalCode === null;
  return {
    server,
    baseFds,
    limit,
    peakFds,
    wave,
    knocked: knocked.attempts,
    knockCrash: knocked.crashed,
    cpu,
    fdsBack,
    leftFds,
    after,
    alive,
  };
}

describe.skipIf(process.platform !== 'linux')('faults: a server out of file descriptors (Linux, prlimit)', () => {
  for (const transport of listeningTransports) {
    it(`${transport.name}: refuses what does not fit with a typed error, does not spin, leaks nothing`, async () => {
      const r = await exhaust(transport);
      const attempts = [...r.wave, ...r.knocked];
      const inBound = attempts.filter((a) => a.outcome !== 'wrong' && a.ms < SETTLED_WITHIN_MS).length;
      const knockers = transport.name === 'mq' ? MQ.knocking : KNOCKING;
      const spinning = r.cpu.share >= IDLE_SHARE;
      recordHardening({
        section: 'faults',
        name: `descriptors exhausted (limit ${r.limit}): ${transport.name}`,
        tried: r.wave.length + knockers + 2,
        passed: inBound + (r.after.ok && r.alive ? 1 : 0) + (r.fdsBack && !spinning ? 1 : 0),
        lost:
          attempts.filter((a) => a.outcome === 'wrong').length + (r.knockCrash ? knockers - r.knocked.length : 0) + (r.after.ok ? 0 : 1),
        detail:
          `wave: ${summary(r.wave)}; knocking while full: ${r.knockCrash ?? summary(r.knocked)}; ` +
          `server CPU while full ${r.cpu.ticks} ticks in 2 s (${(r.cpu.share * 100).toFixed(1)} %); ` +
          `fds ${r.baseFds} -> ${r.peakFds} -> ${r.fdsBack ? r.baseFds : 'NOT back'}`,
      });
      expect(r.alive, 'the server process died').toBe(true);
      expect(r.knockCrash).toBeUndefined();
      expect(attempts.filter((a) => a.outcome === 'wrong').map((a) => a.what)).toEqual([]);
      expect(Math.max(...attempts.map((a) => a.ms))).toBeLessThan(SETTLED_WITHIN_MS);
      expect(r.wave.some((a) => a.outcome === 'served')).toBe(true);
      expect(
        r.wave.some((a) => a.outcome === 'refused'),
        'the limit was never reached',
      ).toBe(true);
      expect(r.cpu.share, `server CPU while full: ${r.cpu.ticks} ticks in 2 s`).toBeLessThan(IDLE_SHARE);
      expect(r.leftFds, 'descriptors the server kept').toEqual([]);
      expect(r.after.ok, String(r.after.error)).toBe(true);
    });
  }
});
