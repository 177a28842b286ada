/**
 * Incomplete transport handshakes on fifo:, mq: and shm: are bounded like
 * tcp:'s (handshake/gate.ts): per listener at most 64 connections
 * in their handshake at once, each for at most 5 s. For each transport, 100
 * raw clients start a handshake and stall (test/fixtures/gateAttacks.ts)
 * against a server in its own process (test/fixtures/gateServer.ts): 64 are
 * held until the deadline, the rest are closed at once, a real client is
 * turned away while the gate is full and gets in afterwards, the server
 * reports every refusal (onRefused), its descriptors return to their
 * baseline and no names are left behind.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, listNamedObjects, ProcwireError } from 'procwire';
import { fifoStall, mqControlPath, mqStall, shmStall, type Stall } from '../fixtures/gateAttacks.js';
import { privateDir, shmRendezvousPath } from '../fixtures/shmHostileLayout.js';
import { guarded } from '../fixtures/tcpSecureChannel.js';
import { recordHardening } from '../helpers/hardenTally.js';
import { devMqueueEntries, fdCount, fdTargets } from '../helpers/procStats.js';
import { startServerProcess, uniqueName, type ServerProcess } from '../helpers/processes.js';

const HANDSHAKE_DEADLINE_MS = 5000;
const GATE_SLOTS = 64;
const ATTEMPTS = 100;
/** A stall closed before this counts as refused at once. */
const AT_ONCE_MS = 1500;

const onLinux = process.platform === 'linux';
const dir = mkdtempSync(join(tmpdir(), 'pw-gate-'));
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.kill()));
  rmSync(dir, { recursive: true, force: true });
});

async function report(url: string) {
  const client = await connect(guarded, url);
  try {
    return await client.rpc.report();
  } finally {
    await client.close();
  }
}

/** Connects and makes `calls` calls; resolves with how many answered right. */
async function callsPass(url: string, calls: number): Promise<number> {
  const client = await connect(guarded, url);
  let right = 0;
  try {
    for (let i = 0; i < calls; i++) if ((await client.rpc.add({ a: i, b: 1 })) === i + 1) right++;
  } finally {
    await client.close();
  }
  return right;
}

/** How a real client's connect ended while the gate was full. */
async function connectWhileFull(url: string): Promise<{ code: string; ms: number; message?: string; data?: unknown }> {
  const started = Date.now();
  try {
    const client = await connect(guarded, url);
    await client.close();
    return { code: 'CONNECTED', ms: Date.now() - started };
  } catch (error) {
    if (!(error instanceof ProcwireError)) return { code: String(error), ms: Date.now() - started };
    return { code: error.code, ms: Date.now() - started, message: error.message, data: error.data };
  }
}

/** The server's descriptor count once it stopped changing (or after `withinMs`), at most `target` if it gets there. */
async function settledFds(pid: number, target: number | undefined, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  let last = fdCount(pid);
  let stableSince = Date.now();
  for (;;) {
    await sleep(100);
    const now = fdCount(pid);
    if (now !== last) stableSince = Date.now();
    last = now;
    if (target !== undefined ? now <= target : Date.now() - stableSince >= 500) return now;
    if (Date.now() > deadline) return now;
  }
}

interface Flood {
  readonly atOnce: number;
  readonly held: number;
  readonly never: number;
  readonly firstHeldClose: number;
  readonly lastClose: number;
  readonly heldFds: number;
  readonly whileFull: { code: string; ms: number; message?: string; data?: unknown };
}

/** Starts ATTEMPTS stalls, and one real client a second in, and waits until the server closed them all. */
async function flood(server: ServerProcess, stall: (index: number, started: number) => Stall, stalls: Stall[]): Promise<Flood> {
  const pid = server.child.pid!;
  const before = fdCount(pid);
  const started = Date.now();
  for (let i = 0; i < ATTEMPTS; i++) stalls.push(stall(i, started));
  await sleep(1000);
  const heldFds = fdCount(pid) - before;
  const whileFull = await connectWhileFull(server.url);
  const closedAt = await Promise.all(stalls.map((s) => s.closedAt));
  const closed = closedAt.filter((t) => t >= 0);
  const held = closed.filter((t) => t >= AT_ONCE_MS);
  return {
    atOnce: closed.filter((t) => t < AT_ONCE_MS).length,
    held: held.length,
    never: closedAt.length - closed.length,
    firstHeldClose: Math.min(...held),
    lastClose: Math.max(...closed),
    heldFds,
    whileFull,
  };
}

/** The endpoint's named objects, except the live ones in `own` (the server's): anything else was left behind. */
async function staleOrForeign(url: string, own: readonly string[]): Promise<string[]> {
  const objects = await listNamedObjects(url);
  expect(
    objects
      .filter((o) => own.includes(o.name))
      .map((o) => o.name)
      .sort(),
  ).toEqual([...own].sort());
  return objects.filter((o) => !(own.includes(o.name) && o.state === 'live')).map((o) => `${o.kind} ${o.name} (${o.state})`);
}

interface GateCase {
  readonly transport: string;
  readonly url: string;
  /** Descriptors the server holds per connection it keeps in its handshake. */
  readonly fdsPerHeld: number;
  readonly stall: (index: number, started: number) => Stall;
  /** Names the transport's connections left behind; the server's own live names are not leftovers. */
  readonly leftovers: () => Promise<string[]>;
  /** What this machine cannot list, said in the tally rather than passed over. */
  readonly unlistable?: string;
}

async function checkGate(c: GateCase): Promise<void> {
  const server = await startServerProcess(c.url, 'gateServer.ts');
  servers.push(server);
  const pid = server.child.pid!;
  // One connection first, so whatever the server opens lazily is in the baseline.
  expect(await callsPass(server.url, 1)).toBe(1);
  const baseline = await settledFds(pid, undefined, 3000);
  const stalls: Stall[] = [];
  let f: Flood;
  try {
    f = await flood(server, c.stall, stalls);
  } finally {
    for (const s of stalls) s.dispose();
  }
  // Every stall was closed: 64 at the deadline, the rest at once.
  expect(f.never).toBe(0);
  expect(f.held).toBeLessThanOrEqual(GATE_SLOTS);
  expect(f.atOnce).toBeGreaterThanOrEqual(ATTEMPTS - GATE_SLOTS);
  expect(f.atOnce + f.held).toBe(ATTEMPTS);
  expect(f.firstHeldClose).toBeGreaterThanOrEqual(HANDSHAKE_DEADLINE_MS - 1000);
  expect(f.lastClose).toBeLessThan(HANDSHAKE_DEADLINE_MS + 3000);
  // While they were held, the server held their descriptors and nothing more.
  expect(f.heldFds).toBeGreaterThanOrEqual(c.fdsPerHeld * f.held - 2);
  expect(f.heldFds).toBeLessThanOrEqual(c.fdsPerHeld * f.held + 4);
  // A real client that came while the gate was full was turned away at once.
  expect(f.whileFull.code).toBe('CONNECT_FAILED');
  expect(f.whileFull.ms).toBeLessThan(AT_ONCE_MS);
  // It was told which limit: the server's, not "the server at" its own pipe.
  expect(f.whileFull.data).toEqual({ limit: 'maxHandshakes', value: GATE_SLOTS });
  expect(f.whileFull.message).toContain(`at most ${GATE_SLOTS} connections in their transport handshake`);
  expect(f.whileFull.message).toContain(server.url.replace(/\?.*$/, ''));
  expect(f.whileFull.message).not.toMatch(/\.c2s/);

  // Afterwards a client gets in, and the server counted every refusal.
  expect(await callsPass(server.url, 5)).toBe(5);
  const after = await report(server.url);
  expect(after.refused.TOO_MANY_CONNECTIONS).toBe(f.atOnce + 1);
  expect(after.refused.TIMEOUT).toBe(f.held);
  expect(after.dispatched).toBe(1 + 5);
  expect(after.connections).toBe(1);

  const fdsAfter = await settledFds(pid, baseline, 5000);
  expect(fdsAfter, fdTargets(pid).join('\n')).toBeLessThanOrEqual(baseline);
  const leftovers = await c.leftovers();
  expect(leftovers).toEqual([]);

  recordHardening({
    section: 'limits',
    name: `incomplete handshakes over ${c.transport}`,
    tried: ATTEMPTS,
    passed: f.atOnce + f.held,
    detail:
      `${f.held} held (+${f.heldFds} server fds) until ${f.firstHeldClose}-${f.lastClose} ms, ${f.atOnce} closed at once; ` +
      `a client during the flood: ${f.whileFull.code} in ${f.whileFull.ms} ms; afterwards 5/5 calls; ` +
      `server fds ${baseline} -> ${fdsAfter}; leftover names: ${leftovers.length}${c.unlistable ? ` (${c.unlistable})` : ''}`,
  });
}

describe.runIf(onLinux)('handshake gate on fifo:, mq:, shm: (Linux)', () => {
  it('fifo: 100 requests whose client never opens its side', { timeout: 40_000 }, async () => {
    const fifoDir = mkdtempSync(join(dir, 'fifo-'));
    const wellKnown = join(fifoDir, 'gate');
    await checkGate({
      transport: 'fifo',
      url: `fifo://${wellKnown}`,
      fdsPerHeld: 2,
      stall: (_i, started) => fifoStall(wellKnown, started),
      leftovers: async () => readdirSync(fifoDir).filter((entry) => entry !== 'gate'),
    });
  });

  it('mq: 100 control connections that say nothing or half a hello', { timeout: 40_000 }, async () => {
    const name = `/${uniqueName('gate')}`;
    await checkGate({
      transport: 'mq',
      url: `mq://${name}`,
      fdsPerHeld: 1,
      stall: (i, started) => mqStall(name, started, i % 2 === 0 ? 'nothing' : 'half a hello'),
      // The endpoint's names as the transport lists them: its own live queue and
      // control socket stay; reply queues are listed where /dev/mqueue is mounted.
      leftovers: async () =>
        (await staleOrForeign(`mq://${name}`, [name, mqControlPath(name)])).concat(
          (devMqueueEntries() ?? []).filter((entry) => entry.startsWith(`${name.slice(1)}.`)),
        ),
      unlistable: devMqueueEntries() === undefined ? 'reply queues not listable: /dev/mqueue is not mounted' : undefined,
    });
  });

  it('shm: 100 rendezvous connections that never say hello', { timeout: 40_000 }, async () => {
    const name = uniqueName('gate');
    await checkGate({
      transport: 'shm',
      url: `shm:///${name}`,
      fdsPerHeld: 1,
      stall: (_i, started) => shmStall(name, started),
      // Segments are memfds without names (the descriptor count covers them); the
      // rendezvous is the one name, and its temporary bind names must be gone.
      leftovers: async () =>
        (await staleOrForeign(`shm:///${name}`, [shmRendezvousPath(name)])).concat(
          readdirSync(privateDir()).filter((entry) => entry.startsWith(`shm-${name}.`) && entry !== `shm-${name}.sock`),
        ),
    });
  });

  // Legitimate bursts larger than the gate: the surplus is refused at once,
  // and connect's waitMs retries it until a slot is free.
  for (const [transport, makeUrl] of [
    ['fifo', () => `fifo://${join(dir, uniqueName('burst'))}`],
    ['shm', () => `shm:///${uniqueName('burst')}?wait=sleep&ringBytes=65536`],
  ] as const) {
    it(`${transport}: a burst of 200 honest clients all get in with waitMs`, { timeout: 60_000 }, async () => {
      const server = await startServerProcess(makeUrl(), 'gateServer.ts');
      servers.push(server);
      const clients = await Promise.all(Array.from({ length: 200 }, () => connect(guarded, server.url, { waitMs: 30_000 })));
      try {
        const sums = await Promise.all(clients.map((client, i) => client.rpc.add({ a: i, b: 1 })));
        const right = sums.filter((sum, i) => sum === i + 1).length;
        expect(right).toBe(200);
        recordHardening({
          section: 'limits',
          name: `burst of 200 connects over ${transport} (waitMs retries the gate's refusals)`,
          tried: 200,
          passed: right,
        });
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
    });
  }
});
