/**
 * One transport's soak: a server process (test/fixtures/loadServer.ts, or
 * for socketpair/pipe the worker test/fixtures/loadWorker.ts the client
 * spawns), one client process (soak/client.ts); raw RSS of both read from
 * /proc while the calls run, RSS after a full collection at every 5% of
 * the calls (soak/growth.ts), and the before/after comparisons of
 * descriptors, handles, connections and named objects.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { connect, removeStaleObjects } from 'procwire';
import { calc } from '../test/fixtures/calc.js';
import { startIpcProcess, stopProcess, type IpcMessage, type IpcProcess } from '../test/helpers/loadIpc.js';
import { dirEntries, namedEntries, openFdCount, rssBytes, settledView, type ProcessSnapshot } from '../test/helpers/loadStats.js';
import { CHECKPOINTS, floorGrowth, MAX_GROWTH_BYTES, peakOf, type Growth, type RssSample } from './growth.js';
import type { MemoryFigures, SoakClientPlan, SoakClientResult } from './protocol.js';
import type { SoakTransport } from './transports.js';

const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url));
/** A run whose completed-call count does not move for this long has stalled. */
const STALL_MS = 60_000;
const SETTLE_MS = 5000;
/**
 * A small, fixed young generation (1 MiB per semi-space) in every process of
 * the run, the spawned worker too (spawn() passes the client's flags on).
 * Left to itself V8 grows it up to 16 MiB per semi-space as the run goes on,
 * which moved heapTotal and RSS by 20 MB in 10M calls here while the live
 * heap stayed flat (a leak that is not one), and a large young generation
 * makes RSS right after a collection swing by as much (which hides one).
 */
const V8_FLAGS = ['--min-semi-space-size=1', '--max-semi-space-size=1'];
/**
 * glibc keeps freed memory in per-thread arenas and gives little of it back:
 * with its defaults, RSS right after a full collection still swung by 20 MB
 * between checkpoints here while heapUsed, heapTotal and external stayed
 * flat, enough for a false FAIL (mq client, +18.2 MB). With at most two
 * arenas and the top of the heap trimmed above 128 KiB, freed memory goes
 * back to the kernel and the floors of clean runs agree within a few MB;
 * memory that is still held (a leak) stays resident all the same.
 */
const MEASURE_ENV: NodeJS.ProcessEnv = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072' };

export interface SoakSettings {
  readonly calls: number;
  readonly clients: number;
  readonly inFlight: number;
  readonly sampleMs: number;
  /** Gets every raw sample (calls completed, RSS of server and client). */
  readonly onSample?: (done: number, server: number, client: number) => void;
  /** Called with a line of progress at every tenth of the run. */
  readonly log: (line: string) => void;
}

export interface SoakOutcome {
  readonly transport: string;
  readonly calls: number;
  readonly ok: number;
  readonly ms: number;
  /** RSS after a full collection: floors early and late in the run (soak/growth.ts). */
  readonly server?: Growth;
  readonly client?: Growth;
  /** Highest raw RSS sampled. */
  readonly serverPeak?: number;
  readonly clientPeak?: number;
  /**
   * Open descriptors, after minus before. Named servers and the client: after
   * every connection closed vs before the run (after a warm-up connection).
   * A spawned worker dies with its connection, so its figure is the change
   * while the calls ran: at the last checkpoint (95%) vs the first (5%).
   */
  readonly serverFdDelta?: number;
  readonly clientFdDelta?: number;
  /** Entries in /dev/shm and /dev/mqueue (and the runtime and temp directories) named after this run, after minus before. */
  readonly namedDelta: { shm: number; mqueue: number; other: number };
  /** Whole /dev/shm and /dev/mqueue, after minus before: other programs count here too, so it is only shown. */
  readonly wholeDirDelta: { shm: number; mqueue: number };
  readonly failures: string[];
  readonly pass: boolean;
}

interface Checkpoint {
  readonly server: MemoryFigures;
  readonly client: MemoryFigures;
  readonly workerFds?: number;
}

/** Marks a promise awaited later as handled, so a failure before then does not end the soak. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function entriesBy(runId: string): { shm: number; mqueue: number; other: number } {
  const named = namedEntries(runId, [tmpdir()]);
  const shm = named.filter((p) => p.startsWith('/dev/shm/')).length;
  const mqueue = named.filter((p) => p.startsWith('/dev/mqueue/')).length;
  return { shm, mqueue, other: named.length - shm - mqueue };
}

async function serverSnapshot(server: IpcProcess, settled = false): Promise<ProcessSnapshot> {
  return (await server.request<IpcMessage & { snapshot: ProcessSnapshot }>({ type: 'snapshot', settled })).snapshot;
}

/** Polls the server until `accept` says yes (or SETTLE_MS passed); returns the last snapshot. */
async function serverWhen(
  server: IpcProcess,
  accept: (now: ProcessSnapshot, previous: ProcessSnapshot) => boolean,
): Promise<ProcessSnapshot> {
  const deadline = Date.now() + SETTLE_MS;
  let previous = await serverSnapshot(server);
  for (;;) {
    await sleep(50);
    const now = await serverSnapshot(server);
    if (accept(now, previous) || Date.now() > deadline) return now;
    previous = now;
  }
}

function describeHandles(side: string, before: ProcessSnapshot, after: ProcessSnapshot): string | undefined {
  if (isDeepStrictEqual(settledView(before), settledView(after))) return undefined;
  return `${side} not back at baseline: ${JSON.stringify(settledView(before))} -> ${JSON.stringify(settledView(after))}`;
}

/** RSS after a full collection in the server (or worker) and the client, taken while the calls run. */
async function checkpoint(server: IpcProcess | undefined, client: IpcProcess, workerPid: number | undefined): Promise<Checkpoint> {
  const [snapshot, collected] = await Promise.all([
    server ? serverSnapshot(server, true) : undefined,
    client.request<IpcMessage & { self: MemoryFigures; worker?: MemoryFigures }>({ type: 'gc' }),
  ]);
  const serverFigures = snapshot
    ? { rss: snapshot.rss, heapUsed: snapshot.heapUsed, heapTotal: snapshot.heapTotal, external: snapshot.external }
    : collected.worker;
  if (!serverFigures) throw new Error('the worker did not report its memory');
  return { server: serverFigures, client: collected.self, ...(workerPid ? { workerFds: openFdCount(workerPid) } : {}) };
}

/** One line per side: post-collection RSS at every checkpoint, and the live heap at the first and last. */
function logCheckpoints(id: string, reached: ReadonlyMap<number, Checkpoint>, log: (line: string) => void): void {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const first = reached.get(CHECKPOINTS[0]!);
  const last = reached.get(CHECKPOINTS.at(-1)!);
  for (const side of ['server', 'client'] as const) {
    const rss = [...reached.values()].map((c) => mb(c[side].rss)).join(' ');
    const change = (key: 'heapUsed' | 'heapTotal' | 'external') => `${key} ${mb(first![side][key])} -> ${mb(last![side][key])}`;
    const heap = first && last ? `; ${change('heapUsed')}, ${change('heapTotal')}, ${change('external')}` : '';
    log(`  ${id} ${side} RSS after a full collection at 5%, 10%, ... 95% (MB): ${rss}${heap}`);
  }
}

export async function runTransport(transport: SoakTransport, settings: SoakSettings): Promise<SoakOutcome> {
  const runId = `soak-${process.pid}-${randomBytes(4).toString('hex')}`;
  const target = transport.target(runId);
  const namedBefore = entriesBy(runId);
  const wholeBefore = { shm: dirEntries('/dev/shm').length, mqueue: dirEntries('/dev/mqueue').length };
  const failures: string[] = [];
  const processes: IpcProcess[] = [];
  const serverSamples: RssSample[] = [];
  const clientSamples: RssSample[] = [];
  // Checkpoints run one after another: two collections at once would measure each other.
  const checkpoints = new Map<number, Promise<Checkpoint>>();
  let lastCheckpoint: Promise<unknown> = Promise.resolve();
  const reached = new Map<number, Checkpoint>();
  let serverFdDelta: number | undefined;
  let clientFdDelta: number | undefined;
  let result: SoakClientResult | undefined;

  let url: string | undefined;
  try {
    let server: IpcProcess | undefined;
    let serverBefore: ProcessSnapshot | undefined;
    if ('url' in target) {
      server = startIpcProcess('loadServer.ts', [target.url], MEASURE_ENV, V8_FLAGS);
      processes.push(server);
      url = (await server.next<IpcMessage & { url: string }>('ready')).url;
      // One connection first, so what the first connection loads for good is in the baseline.
      const warmUp = await connect(calc, url);
      await warmUp.rpc.add({ a: 1, b: 2 });
      await warmUp.close();
      serverBefore = await serverWhen(
        server,
        (now, previous) => now.connections === 0 && isDeepStrictEqual(settledView(now), settledView(previous)),
      );
    }

    const plan: SoakClientPlan = {
      target: url ? { url } : target,
      clients: settings.clients,
      inFlight: settings.inFlight,
      calls: settings.calls,
      progressMs: settings.sampleMs,
    };
    const client = startIpcProcess(CLIENT, [JSON.stringify(plan)], MEASURE_ENV, V8_FLAGS);
    processes.push(client);
    const { workerPid } = await client.next<IpcMessage & { workerPid?: number }>('connected', 60_000);
    const serverPid = workerPid ?? server!.pid;

    const takeCheckpointsUpTo = (completed: number) => {
      for (const fraction of CHECKPOINTS) {
        if (checkpoints.has(fraction) || completed < settings.calls * fraction) continue;
        const taken = handled(lastCheckpoint.then(() => checkpoint(server, client, workerPid)));
        checkpoints.set(fraction, taken);
        lastCheckpoint = taken.catch(() => {});
      }
    };
    let done = 0;
    let lastMove = Date.now();
    let nextLogAt = 0.1;
    const sample = () => {
      try {
        const serverRss = rssBytes(serverPid);
        const clientRss = rssBytes(client.pid);
        serverSamples.push({ done, rss: serverRss });
        clientSamples.push({ done, rss: clientRss });
        settings.onSample?.(done, serverRss, clientRss);
      } catch {
        // a process that is gone shows in the result
      }
    };
    // The client reports every sampleMs; each report is a sample, so every sample knows how far the run was.
    client.on('progress', (message) => {
      const now = message.done as number;
      if (now !== done) lastMove = Date.now();
      done = now;
      sample();
      takeCheckpointsUpTo(done);
      if (done >= settings.calls * nextLogAt) {
        const rss = (samples: RssSample[]) => `${((samples.at(-1)?.rss ?? 0) / 1e6).toFixed(1)} MB`;
        settings.log(
          `  ${transport.id}: ${Math.round((done / settings.calls) * 100)}% (${done.toLocaleString('en-US')} calls), ` +
            `RSS server ${rss(serverSamples)}, client ${rss(clientSamples)}`,
        );
        nextLogAt = Math.floor((done / settings.calls) * 10 + 1) / 10;
      }
    });

    const answer = client.request<IpcMessage & { result: SoakClientResult }>({ type: 'go' }, 24 * 3600_000);
    const stalled = new Promise<never>((_, reject) => {
      const watchdog = setInterval(() => {
        if (Date.now() - lastMove > STALL_MS) {
          clearInterval(watchdog);
          reject(new Error(`no call completed for ${STALL_MS / 1000} s (at ${done.toLocaleString('en-US')})`));
        }
      }, 1000);
      answer.finally(() => clearInterval(watchdog)).catch(() => {});
    });
    result = (await Promise.race([answer, stalled])).result;
    done = settings.calls;
    sample();
    // Checkpoints a short run passed between two progress reports are taken now, on an idle process.
    takeCheckpointsUpTo(settings.calls);
    for (const [fraction, taken] of checkpoints) reached.set(fraction, await taken);
    logCheckpoints(transport.id, reached, settings.log);
    const first = reached.get(CHECKPOINTS[0]!);
    const last = reached.get(CHECKPOINTS.at(-1)!);
    if (workerPid && first?.workerFds !== undefined && last?.workerFds !== undefined) serverFdDelta = last.workerFds - first.workerFds;

    const closed = await client.request<
      IpcMessage & { baseline: ProcessSnapshot; after: ProcessSnapshot; workerExit?: { code: number | null; signal: string | null } }
    >({ type: 'close' }, 30_000);
    await client.exited;
    clientFdDelta = closed.after.fds - closed.baseline.fds;
    const clientHandles = describeHandles('client', closed.baseline, closed.after);
    if (clientHandles) failures.push(clientHandles);
    if (closed.workerExit && closed.workerExit.code !== 0)
      failures.push(`the worker exited with ${closed.workerExit.code ?? closed.workerExit.signal}`);

    if (server && serverBefore) {
      const before = serverBefore;
      const after = await serverWhen(server, (now) => isDeepStrictEqual(settledView(now), settledView(before)));
      serverFdDelta = after.fds - before.fds;
      if (after.connections !== 0) failures.push(`the server still counts ${after.connections} connections`);
      const serverHandles = describeHandles('server', before, after);
      if (serverHandles) failures.push(serverHandles);
      await server.request({ type: 'close' });
      await server.exited;
    }
  } catch (error) {
    failures.push((error as Error).message);
  } finally {
    await Promise.all(processes.map((p) => stopProcess(p)));
  }

  const namedAfter = entriesBy(runId);
  if (url && failures.length > 0) {
    // A failed run may leave names (a client stopped while connecting); they are counted above, then removed.
    const removed = await removeStaleObjects(url).catch(() => []);
    if (removed.length > 0) failures.push(`removed what the failed run left: ${removed.map((o) => o.name).join(', ')}`);
  }
  const namedDelta = {
    shm: namedAfter.shm - namedBefore.shm,
    mqueue: namedAfter.mqueue - namedBefore.mqueue,
    other: namedAfter.other - namedBefore.other,
  };
  const wholeDirDelta = {
    shm: dirEntries('/dev/shm').length - wholeBefore.shm,
    mqueue: dirEntries('/dev/mqueue').length - wholeBefore.mqueue,
  };
  const serverGrowth = floorGrowth(new Map([...reached].map(([fraction, c]) => [fraction, c.server.rss])));
  const clientGrowth = floorGrowth(new Map([...reached].map(([fraction, c]) => [fraction, c.client.rss])));

  if (result && result.ok !== settings.calls) {
    failures.push(
      `${result.ok} of ${settings.calls} replies correct (${result.wrong} wrong, ${result.errors} errors: ${result.errorSamples.join('; ')})`,
    );
  }
  for (const [side, growth] of [
    ['server', serverGrowth],
    ['client', clientGrowth],
  ] as const) {
    if (!growth) failures.push(`${side}: RSS not measured`);
    else if (growth.growth > MAX_GROWTH_BYTES) failures.push(`${side} RSS grew by ${(growth.growth / 1e6).toFixed(1)} MB`);
  }
  if (serverFdDelta !== 0) failures.push(`server descriptors changed by ${serverFdDelta ?? 'unknown'}`);
  if (clientFdDelta !== 0) failures.push(`client descriptors changed by ${clientFdDelta ?? 'unknown'}`);
  if (namedDelta.shm !== 0 || namedDelta.mqueue !== 0 || namedDelta.other !== 0)
    failures.push(`named objects left: ${JSON.stringify(namedDelta)}`);

  return {
    transport: transport.id,
    calls: settings.calls,
    ok: result?.ok ?? 0,
    ms: result?.ms ?? 0,
    server: serverGrowth,
    client: clientGrowth,
    serverPeak: peakOf(serverSamples),
    clientPeak: peakOf(clientSamples),
    serverFdDelta,
    clientFdDelta,
    namedDelta,
    wholeDirDelta,
    failures,
    pass: failures.length === 0,
  };
}
