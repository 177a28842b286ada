/**
 * Faults: names left by a crash, and names of a live server, for every
 * transport whose server owns names (unix path, unix abstract, fifo, mq,
 * shm). Per round, across real processes:
 * - a second server on the live server's URL gets ADDRESS_IN_USE, and the
 *   first keeps serving new connections (its names were not touched);
 * - the first is SIGKILLed: its names are left stale (an abstract name goes
 *   with it), and a new server on the same URL starts, replacing them, and
 *   serves.
 * At the end a clean shutdown (SIGTERM) leaves no names at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, listNamedObjects } from 'procwire';
import { faultChannel } from '../fixtures/faultChannel.js';
import { faultTransports, linesOf, removeLeftovers, startFaultServer, startFixture } from '../fixtures/faultEndpoints.js';
import { recordHardening } from '../helpers/hardenTally.js';
import type { ServerProcess } from '../helpers/processes.js';

const ROUNDS = 2;
// The wait policy does not touch names: one shm: entry is enough.
const named = faultTransports.filter((t) => t.named && t.name !== 'shm (spin)');

const running: ServerProcess[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) {
    await server.kill('SIGKILL');
    await removeLeftovers(server.url);
  }
});

/** What a second server process says when it tries to serve `url`: "served", or "<code> <message>". */
async function secondServerSays(url: string): Promise<string> {
  const child = startFixture('serveOnce.ts', [url]);
  const [line] = await linesOf(child.stdout!).next(/.+/);
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  return line;
}

async function served(url: string, n: number): Promise<boolean> {
  const client = await connect(faultChannel, url);
  try {
    return (await client.rpc.add({ a: n, b: 1 })) === n + 1;
  } finally {
    await client.close();
  }
}

describe.skipIf(process.platform !== 'linux')('faults: stale names after a crash, live names never taken (Linux)', () => {
  for (const transport of named) {
    it(`${transport.name}: ${ROUNDS} rounds of takeover refused, SIGKILL, restart on the stale names`, async () => {
      const url = transport.makeUrl!();
      const abstract = url.startsWith('unix:@');
      let server = await startFaultServer(url);
      running.push(server);
      let refused = 0;
      let restarted = 0;
      const notes: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const said = await secondServerSays(server.url);
        const liveNames = await listNamedObjects(server.url);
        const stillServes = await served(server.url, round);
        if (said.startsWith(`${ErrorCode.ADDRESS_IN_USE} `) && stillServes && liveNames.every((o) => o.state === 'live')) refused++;
        else notes.push(`round ${round}: second server said "${said}", first serves: ${stillServes}`);

        await server.kill('SIGKILL');
        const left = await listNamedObjects(url);
        // An abstract name dies with its socket; every other name stays behind, stale.
        const staleAsExpected = abstract ? left.length === 0 : left.length > 0 && left.every((o) => o.state === 'stale');
        if (!staleAsExpected) notes.push(`round ${round}: after SIGKILL: ${JSON.stringify(left)}`);

        server = await startFaultServer(url);
        running.push(server);
        if (staleAsExpected && (await served(server.url, round))) restarted++;
      }
      running.splice(running.indexOf(server), 1);
      await server.kill('SIGTERM');
      const afterCleanExit = await listNamedObjects(url);
      recordHardening({
        section: 'faults',
        name: `stale names replaced, live names kept: ${transport.name}`,
        tried: 2 * ROUNDS,
        passed: refused + restarted,
        lost: 0,
        detail: `${refused}/${ROUNDS} takeovers refused with ADDRESS_IN_USE, ${restarted}/${ROUNDS} restarts over stale names; ${afterCleanExit.length} names after SIGTERM${notes.length ? `; ${notes.join('; ')}` : ''}`,
      });
      expect(notes).toEqual([]);
      expect(refused).toBe(ROUNDS);
      expect(restarted).toBe(ROUNDS);
      expect(afterCleanExit).toEqual([]);
    });
  }
});
