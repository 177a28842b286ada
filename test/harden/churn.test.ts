/**
 * Connection churn: many cycles of connect -> call -> close against one
 * server process, then everything must be back where it was after one
 * warm-up cycle, on both sides: open descriptors (/proc/<pid>/fd), Node's
 * active handles and timers (process.getActiveResourcesInfo()), mapped
 * shared-memory segments, the server's connection count; and the endpoint's
 * named objects (listNamedObjects, and /dev/shm, /dev/mqueue, the runtime
 * directory and the temp directory entries named after the endpoint).
 * socketpair: and pipe: spawn a worker per cycle; each must exit with 0.
 * Server RSS growth (after a full GC on both readings) is reported.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { listNamedObjects } from 'procwire';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChurnClientResult, ChurnTarget } from '../fixtures/loadChurnClient.js';
import { recordHardening } from '../helpers/hardenTally.js';
import { processTracker, snapshot, startIpcProcess, type IpcMessage, type IpcProcess } from '../helpers/loadIpc.js';
import { formatMB, namedEntries, settledView, type ProcessSnapshot } from '../helpers/loadStats.js';
import { uniqueName } from '../helpers/processes.js';

const CONNECT_CYCLES = 300;
/** Each spawned cycle starts a Node process with tsx (~0.3-0.5 s here). */
const SPAWN_CYCLES = 25;
const SETTLE_MS = 5000;

interface ChurnCase {
  readonly name: string;
  /** The endpoint for a server, built from a unique name; absent for spawned workers. */
  readonly url?: (name: string) => string;
  readonly via?: 'socketpair:' | 'pipe:';
  /** Whether listNamedObjects knows the scheme (tcp: has no names). */
  readonly hasNames?: boolean;
}

const CASES: ChurnCase[] = [
  { name: 'unix (path)', url: (n) => `unix://${join(tmpdir(), `${n}.sock`)}`, hasNames: true },
  { name: 'unix (abstract)', url: (n) => `unix:@${n}`, hasNames: true },
  { name: 'tcp', url: () => 'tcp://127.0.0.1:0' },
  { name: 'fifo', url: (n) => `fifo://${join(tmpdir(), n)}`, hasNames: true },
  { name: 'mq', url: (n) => `mq:///${n}`, hasNames: true },
  { name: 'shm (wait=sleep)', url: (n) => `shm:///${n}?wait=sleep&ringBytes=65536`, hasNames: true },
  { name: 'shm (wait=spin)', url: (n) => `shm:///${n}?wait=spin&ringBytes=65536`, hasNames: true },
  { name: 'socketpair (spawn)', via: 'socketpair:' },
  { name: 'pipe (spawn)', via: 'pipe:' },
];

const { track, stopAll } = processTracker();
afterEach(stopAll);

/** The server's state once the warm-up connection is gone and two readings in a row agree. */
async function serverBaseline(server: IpcProcess): Promise<ProcessSnapshot> {
  const deadline = Date.now() + SETTLE_MS;
  let previous = await snapshot(server);
  for (;;) {
    await sleep(50);
    const now = await snapshot(server);
    if ((now.connections === 0 && isDeepStrictEqual(settledView(now), settledView(previous))) || Date.now() > deadline) return now;
    previous = now;
  }
}

/** Polls the server until it is back at `baseline` (or SETTLE_MS passed) and returns the last reading. */
async function serverSettled(server: IpcProcess, baseline: ProcessSnapshot): Promise<ProcessSnapshot> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const now = await snapshot(server);
    if (isDeepStrictEqual(settledView(now), settledView(baseline)) || Date.now() > deadline) return now;
    await sleep(50);
  }
}

/** `after - before` per resource kind, only where they differ ({} when the same). */
function resourceDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[kind] ?? 0) - (before[kind] ?? 0);
    if (d !== 0) delta[kind] = d;
  }
  return delta;
}

function describeDelta(side: string, before: ProcessSnapshot, after: ProcessSnapshot): string {
  const handles = Object.entries(resourceDelta(before.resources, after.resources)).map(([k, d]) => `${k} ${d > 0 ? '+' : ''}${d}`);
  return `${side} fds ${after.fds - before.fds >= 0 ? '+' : ''}${after.fds - before.fds}, handles ${handles.length ? handles.join(' ') : '+0'}`;
}

async function names(url: string, name: string, hasNames: boolean): Promise<string[]> {
  const listed = hasNames ? (await listNamedObjects(url)).map((o) => `${o.kind} ${o.name} ${o.state}`) : [];
  return [...listed, ...namedEntries(name, [tmpdir()])].sort();
}

async function runClient(
  target: ChurnTarget,
  cycles: number,
  onWarmed: () => Promise<void>,
): Promise<ChurnClientResult & { exitedByItself: boolean }> {
  const client = track(startIpcProcess('loadChurnClient.ts', [JSON.stringify({ target, cycles })]));
  await client.next('warmed', 30_000);
  await onWarmed();
  const { result } = await client.request<IpcMessage & { result: ChurnClientResult }>({ type: 'go' }, 100_000);
  // With its IPC channel closed, nothing should keep the client's event loop alive.
  const exitedByItself = await Promise.race([client.exited.then(() => true), sleep(SETTLE_MS).then(() => false)]);
  return { ...result, exitedByItself };
}

describe.skipIf(process.platform !== 'linux')('churn: connect -> call -> close, then back to baseline (Linux)', () => {
  for (const c of CASES) {
    const cycles = c.via ? SPAWN_CYCLES : CONNECT_CYCLES;
    const what = c.via ? 'spawn -> call -> close -> worker exits' : 'connect -> call -> close';
    it(`${c.name}: ${cycles} x ${what}; descriptors, handles, connections and named objects back to baseline`, async () => {
      let serverBefore: ProcessSnapshot | undefined;
      let serverAfter: ProcessSnapshot | undefined;
      let namesBefore: string[] = [];
      let namesAfter: string[] = [];
      let result: ChurnClientResult & { exitedByItself: boolean };

      if (c.url) {
        const name = uniqueName('churn');
        const server = track(startIpcProcess('loadServer.ts', [c.url(name)]));
        const { url } = await server.next<IpcMessage & { url: string }>('ready');
        result = await runClient({ url }, cycles, async () => {
          serverBefore = await serverBaseline(server);
          namesBefore = await names(url, name, c.hasNames === true);
        });
        serverAfter = await serverSettled(server, serverBefore!);
        namesAfter = await names(url, name, c.hasNames === true);
        await server.request({ type: 'close' });
        await server.exited;
      } else {
        result = await runClient({ via: c.via! }, cycles, async () => {});
      }

      const clientDelta = describeDelta('client', result.baseline, result.after);
      const serverDelta =
        serverBefore && serverAfter
          ? `; ${describeDelta('server', serverBefore, serverAfter)}, connections ${serverAfter.connections}, ` +
            `RSS ${formatMB(serverBefore.rss)} -> ${formatMB(serverAfter.rss)} (${serverAfter.rss - serverBefore.rss >= 0 ? '+' : ''}${formatMB(serverAfter.rss - serverBefore.rss)}), ` +
            `named objects ${namesBefore.length} -> ${namesAfter.length}`
          : `; workers exited 0: ${result.cleanExits}/${cycles}`;
      const restored =
        isDeepStrictEqual(settledView(result.after), settledView(result.baseline)) &&
        result.exitedByItself &&
        (!serverBefore ||
          (isDeepStrictEqual(settledView(serverAfter!), settledView(serverBefore)) && isDeepStrictEqual(namesAfter, namesBefore)));
      const detail =
        `${(result.ms / 1000).toFixed(1)} s (${(result.ms / cycles).toFixed(1)} ms/cycle); ` +
        `${restored ? 'all back at baseline' : 'NOT back at baseline'}: ${clientDelta}${serverDelta}`;
      console.log(`churn ${c.name}: ${result.correct}/${cycles} correct; ${detail}`);
      recordHardening({
        section: 'load',
        name: `churn ${c.name}: ${what}`,
        tried: cycles,
        passed: result.correct,
        lost: cycles - result.correct,
        detail,
      });

      expect(result.failures).toEqual([]);
      expect(result.correct).toBe(cycles);
      if (c.via) expect(result.cleanExits).toBe(cycles);
      expect(settledView(result.after)).toEqual(settledView(result.baseline));
      expect(result.exitedByItself).toBe(true);
      if (serverBefore && serverAfter) {
        expect(serverAfter.connections).toBe(0);
        expect(settledView(serverAfter)).toEqual(settledView(serverBefore));
        expect(namesAfter).toEqual(namesBefore);
      }
    }, 110_000);
  }
});
