/**
 * Server restarts seen by a reconnecting client, on every transport a
 * client can dial again: the server is SIGKILLed with calls in flight and
 * started again on the same URL after 0, 100 and 1000 ms. Calls in flight
 * fail with PEER_GONE, calls made while it is down fail at once, none is
 * replayed to the new server, and the client is back by itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, type ProcwireError, removeStaleObjects, type Client } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { startServerProcess, tempSocketPath, uniqueName, type ServerProcess } from '../helpers/processes.js';
import { recordHardening } from '../helpers/hardenTally.js';

interface Target {
  readonly name: string;
  readonly available: boolean;
  url(): string;
}

const linux = process.platform === 'linux';
const targets: Target[] = [
  { name: 'unix (path)', available: process.platform !== 'win32', url: () => `unix://${tempSocketPath()}` },
  { name: 'unix (abstract)', available: linux, url: () => `unix:@${uniqueName()}` },
  { name: 'tcp', available: true, url: () => 'tcp://127.0.0.1:0' },
  { name: 'fifo', available: process.platform !== 'win32', url: () => `fifo://${join(tmpdir(), uniqueName())}` },
  { name: 'mq', available: linux, url: () => `mq:///${uniqueName()}` },
  { name: 'shm', available: linux, url: () => `shm:///${uniqueName()}?wait=sleep` },
];

const DOWNTIMES_MS = [0, 100, 1000];
const servers: ServerProcess[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.kill('SIGTERM');
});

async function rejection(promise: Promise<unknown>): Promise<ProcwireError> {
  try {
    await promise;
  } catch (error) {
    return error as ProcwireError;
  }
  throw new Error('expected a rejection');
}

describe.each(targets.filter((t) => t.available).map((t) => [t.name, t] as const))('restart with reconnect: %s', (name, target) => {
  it.each(DOWNTIMES_MS)('server back after %i ms: in-flight calls fail, none replayed, client reconnects', async (downtimeMs) => {
    const first = await startServerProcess(target.url());
    servers.push(first);
    const url = first.url; // with the real port for tcp
    const attemptsSeen: number[] = [];
    let resolveReconnect!: (attempts: number) => void;
    const reconnected = new Promise<number>((resolve) => {
      resolveReconnect = resolve;
    });
    const disconnects: ProcwireError[] = [];
    const client: Client<typeof calc> = await connect(calc, url, {
      reconnect: {
        initialDelayMs: 20,
        maxDelayMs: 200,
        onDisconnect: (error) => disconnects.push(error),
        onReconnect: (attempts) => {
          attemptsSeen.push(attempts);
          resolveReconnect(attempts);
        },
      },
    });
    try {
      expect(await client.rpc.add({ a: 1, b: 1 })).toBe(2);
      const inFlight = Array.from({ length: 20 }, () => client.rpc.sleep({ ms: 60_000 }));
      const settled = Promise.all(inFlight.map(rejection));
      while ((await client.rpc.stats()).slept < 20) await sleep(5);

      await first.kill('SIGKILL');
      const failures = await settled;
      expect(failures.every((e) => e.code === ErrorCode.PEER_GONE)).toBe(true);
      // While the server is down calls fail at once instead of waiting.
      const whileDown = await rejection(client.rpc.add({ a: 2, b: 2 }));
      expect(whileDown.code).toBe(ErrorCode.PEER_GONE);

      await sleep(downtimeMs);
      // A SIGKILLed server leaves its names behind: the new one must replace them.
      const second = await startServerProcess(url);
      servers.push(second);
      const attempts = await Promise.race([
        reconnected,
        sleep(10_000).then(() => {
          throw new Error('no reconnect within 10 s');
        }),
      ]);
      expect(attempts).toBeGreaterThanOrEqual(1);
      expect(await client.rpc.add({ a: 20, b: 22 })).toBe(42);
      // Nothing in flight at the kill reached the new server.
      expect((await client.rpc.stats()).slept).toBe(0);
      expect(disconnects.map((e) => e.code)).toEqual([ErrorCode.PEER_GONE]);
      recordHardening({
        section: 'faults',
        name: `server restart after ${downtimeMs} ms over ${name} (reconnect)`,
        tried: inFlight.length + 1,
        passed: failures.filter((e) => e.code === ErrorCode.PEER_GONE).length + 1,
        lost: 0,
        detail: `reconnected after ${attempts} attempt(s), 0 calls replayed`,
      });
    } finally {
      await client.close();
      if (url.startsWith('shm:')) await removeStaleObjects(url).catch(() => {});
    }
  });
});

describe('reconnect options', () => {
  it('refuses reconnect for inherited connections and bad backoff values', async () => {
    await expect(connect(calc, 'socketpair:', { reconnect: true })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(connect(calc, 'unix:///nonexistent.sock', { reconnect: { factor: 0.5 } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringContaining('factor'),
    });
  });
});
