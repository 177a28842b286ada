/**
 * Faults: a peer SIGKILLed in the middle of a frame, on every Linux
 * transport, both ways.
 *
 * (a) The server dies while its 3 MB reply is half out (faultCut.ts stops it
 *     there): every call pending on the client, the half-received one
 *     included, and an open stream must end with PEER_GONE within 100 ms of
 *     the kill.
 * (b) A client dies with half a 3 MB request written: only its own
 *     connection may go. The server's connection count and descriptor count
 *     return to where they were, and another client keeps being served
 *     (large frames included). For socketpair: and pipe: the client is the
 *     worker's parent: the worker must then exit by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, ProcwireError, type Client } from 'procwire';
import { faultChannel } from '../fixtures/faultChannel.js';
import {
  linesOf,
  listeningTransports,
  removeLeftovers,
  settle,
  spawnedTransports,
  spawnFaultWorker,
  startFaultServer,
  startFixture,
  waitFor,
  type Settled,
} from '../fixtures/faultEndpoints.js';
import { recordHardening } from '../helpers/hardenTally.js';
import { fdCount, isAlive } from '../helpers/procStats.js';

/** The bound the brief sets from SIGKILL to the last pending call's PEER_GONE. */
const PEER_GONE_WITHIN_MS = 100;
/** How long after this process saw the exit (when that came later than the bound) PEER_GONE may follow. */
const AFTER_DEATH_SEEN_MS = 30;
const REPLY_BYTES = 3_000_000;

/** Processes a test started; killed after it whatever happened. */
const started: Array<{ kill(): void }> = [];
afterEach(async () => {
  for (const process of started.splice(0)) process.kill();
});

function codeOf(outcome: Settled): string {
  if (outcome.ok) return 'NO ERROR';
  return outcome.error instanceof ProcwireError ? outcome.error.code : `not a ProcwireError: ${String(outcome.error)}`;
}

/** Starts 5 sleeping calls and an open stream, then the 3 MB reply that will be cut; all settle with their time. */
function pendingWork(client: Client<typeof faultChannel>): Promise<Settled>[] {
  const sleeps = Array.from({ length: 5 }, () => settle(client.rpc.sleep({ ms: 20_000 })));
  const stream = settle(
    (async () => {
      for await (const _ of client.stream.forever({ size: 16 }, { window: 8 })) {
        // items keep coming until the server dies
      }
    })(),
  );
  return [...sleeps, stream, settle(client.rpc.bytes({ size: REPLY_BYTES }))];
}

/**
 * Kills the process once it has printed "mid-frame <out> <total>", after
 * checking the reply was partly out. Also notes when this process learns of
 * the death (the child's exit event): on a loaded machine the kernel alone
 * can take longer than the bound to tear a Node process down.
 */
async function killMidFrame(
  stdout: NodeJS.ReadableStream,
  exited: Promise<unknown>,
  kill: () => void,
): Promise<{ killedAt: number; out: number; exitSeen: Promise<number> }> {
  const [, out, total] = await linesOf(stdout as never).next(/^mid-frame (\d+) (\d+)$/);
  expect(Number(out)).toBeGreaterThan(0);
  expect(Number(out)).toBeLessThan(Number(total));
  const killedAt = performance.now();
  kill();
  return { killedAt, out: Number(out), exitSeen: exited.then(() => performance.now()) };
}

/**
 * Checks and records the outcomes. A call counts as in time when it ended
 * with PEER_GONE within the bound of the kill, or, when this process itself
 * learned of the death later than that (the exit event, which only the
 * kernel and the scheduler delay), within a short while of learning it: what
 * is measured is how long procwire takes once the OS reports the death.
 */
async function checkAndReport(name: string, outcomes: Settled[], killedAt: number, exitSeen: Promise<number>, out: number) {
  const deathSeenMs = (await exitSeen) - killedAt;
  const latencies = outcomes.map((o) => o.at - killedAt);
  const max = Math.max(...latencies);
  const inTime = (latency: number) => latency < PEER_GONE_WITHIN_MS || latency < deathSeenMs + AFTER_DEATH_SEEN_MS;
  const codes = outcomes.map(codeOf);
  recordHardening({
    section: 'faults',
    name: `server SIGKILLed mid-reply: ${name}`,
    tried: outcomes.length,
    passed: outcomes.filter((_, i) => codes[i] === ErrorCode.PEER_GONE && inTime(latencies[i]!)).length,
    lost: codes.filter((code) => code !== ErrorCode.PEER_GONE).length,
    detail: `max ${max.toFixed(1)} ms from kill to PEER_GONE (exit seen at ${deathSeenMs.toFixed(1)} ms; ${outcomes.length - 1} calls + 1 stream); ${out} of ${REPLY_BYTES} reply bytes were out`,
  });
  expect(
    codes.every((code) => code === ErrorCode.PEER_GONE),
    codes.join(),
  ).toBe(true);
  expect(inTime(max), `slowest PEER_GONE ${max.toFixed(1)} ms after the kill; the exit was seen at ${deathSeenMs.toFixed(1)} ms`).toBe(
    true,
  );
}

describe.skipIf(process.platform !== 'linux')('faults: peer SIGKILLed in the middle of a frame (Linux)', () => {
  describe('(a) the server dies while sending a 3 MB reply', () => {
    for (const transport of listeningTransports) {
      it(`${transport.name}: every pending call and stream rejects with PEER_GONE within ${PEER_GONE_WITHIN_MS} ms`, async () => {
        const server = await startFaultServer(transport.makeUrl!(), { FAULT_CUT_REPLY: '1' });
        started.push({ kill: () => void server.kill('SIGKILL') });
        try {
          const client = await connect(faultChannel, server.url);
          expect(await client.rpc.add({ a: 1, b: 2 })).toBe(3);
          const pending = pendingWork(client);
          const { killedAt, out, exitSeen } = await killMidFrame(server.child.stdout!, server.exited, () => server.child.kill('SIGKILL'));
          await checkAndReport(transport.name, await Promise.all(pending), killedAt, exitSeen, out);
          expect(codeOf(await settle(client.rpc.add({ a: 1, b: 1 })))).toBe(ErrorCode.PEER_GONE);
        } finally {
          await server.kill('SIGKILL');
          await removeLeftovers(server.url);
        }
      });
    }

    for (const transport of spawnedTransports) {
      it(`${transport.name}: every pending call and stream rejects with PEER_GONE within ${PEER_GONE_WITHIN_MS} ms`, async () => {
        const worker = await spawnFaultWorker(transport.via!, { FAULT_CUT_REPLY: '1' });
        started.push({ kill: () => worker.process.kill('SIGKILL') });
        expect(await worker.rpc.add({ a: 1, b: 2 })).toBe(3);
        const pending = pendingWork(worker);
        const { killedAt, out, exitSeen } = await killMidFrame(worker.process.stdout!, worker.exited, () => worker.process.kill('SIGKILL'));
        await checkAndReport(transport.name, await Promise.all(pending), killedAt, exitSeen, out);
        expect(codeOf(await settle(worker.rpc.add({ a: 1, b: 1 })))).toBe(ErrorCode.PEER_GONE);
      });
    }
  });

  describe('(b) a client dies with half a 3 MB request written', () => {
    for (const transport of listeningTransports) {
      it(`${transport.name}: only its connection goes; descriptors return to baseline; another client is served`, async () => {
        const server = await startFaultServer(transport.makeUrl!());
        started.push({ kill: () => void server.kill('SIGKILL') });
        const pid = server.child.pid!;
        let healthy: Client<typeof faultChannel> | undefined;
        try {
          healthy = await connect(faultChannel, server.url);
          const baseConnections = await healthy.rpc.connections();
          const baseFds = fdCount(pid);

          const writer = startFixture('faultClient.ts', [server.url]);
          started.push({ kill: () => writer.kill('SIGKILL') });
          const exited = new Promise((resolve) => writer.once('exit', resolve));
          const [, out, total] = await linesOf(writer.stdout!).next(/^mid-frame (\d+) (\d+)$/);
          expect(Number(out)).toBeGreaterThan(0);
          expect(Number(out)).toBeLessThan(Number(total));
          expect(await healthy.rpc.connections()).toBe(baseConnections + 1);
          const killedAt = performance.now();
          writer.kill('SIGKILL');
          await exited;

          const connectionGoneMs = await waitFor(
            'the server dropped the dead client',
            async () => (await healthy!.rpc.connections()) === baseConnections,
          );
          const fdsBackMs = await waitFor('the server closed its descriptors', () => fdCount(pid) === baseFds).catch(() => Number.NaN);
          const sinceKill = performance.now() - killedAt;

          // The healthy client is served as before, small and large frames.
          const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => healthy!.rpc.add({ a: i, b: 1 })));
          const sumsRight = sums.filter((sum, i) => sum === i + 1).length;
          const big = new Uint8Array(REPLY_BYTES).map((_, i) => (i * 31) % 251);
          const echoed = (await healthy.rpc.echo(big)) as Uint8Array;
          const echoRight = Buffer.from(echoed).equals(Buffer.from(big)) ? 1 : 0;
          recordHardening({
            section: 'faults',
            name: `client SIGKILLed mid-request: ${transport.name}`,
            tried: 201,
            passed: sumsRight + echoRight,
            lost: 201 - sumsRight - echoRight,
            detail: `dead connection dropped ${connectionGoneMs.toFixed(0)} ms after the kill was seen (${sinceKill.toFixed(0)} ms from kill), fds back to ${baseFds} ${Number.isNaN(fdsBackMs) ? 'NEVER' : 'yes'}`,
          });
          expect(sumsRight).toBe(200);
          expect(echoRight).toBe(1);
          expect(fdCount(pid), `descriptors of the server after the dead client: was ${baseFds}`).toBe(baseFds);
        } finally {
          await healthy?.close();
          await server.kill('SIGTERM');
          await removeLeftovers(server.url);
        }
      });
    }

    for (const transport of spawnedTransports) {
      it(`${transport.name}: the worker of a parent killed mid-request exits by itself`, async () => {
        const parent = startFixture('faultParent.ts', [transport.via!]);
        started.push({ kill: () => parent.kill('SIGKILL') });
        const output = linesOf(parent.stdout!);
        const [, workerPid] = await output.next(/^worker (\d+)$/);
        const worker = Number(workerPid);
        started.push({ kill: () => isAlive(worker) && process.kill(worker, 'SIGKILL') });
        await output.next(/^mid-frame$/);
        expect(isAlive(worker), 'the worker died before its parent').toBe(true);
        parent.kill('SIGKILL');
        const goneMs = await waitFor('the orphaned worker exited', () => !isAlive(worker), 5000).catch(() => Number.NaN);
        recordHardening({
          section: 'faults',
          name: `parent SIGKILLed mid-request: ${transport.name}`,
          tried: 1,
          passed: Number.isNaN(goneMs) ? 0 : 1,
          lost: 0,
          detail: Number.isNaN(goneMs) ? 'worker still running after 5 s' : `worker exited ${goneMs.toFixed(0)} ms after the kill`,
        });
        expect(Number.isNaN(goneMs), 'the worker outlived its parent by 5 s').toBe(false);
      });
    }
  });
});
