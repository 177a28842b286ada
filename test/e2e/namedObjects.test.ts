import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, listNamedObjects, removeStaleObjects } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { startServerProcess, uniqueName } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const endpoints = [
  ['unix', () => `unix://${join(dir, `${uniqueName()}.sock`)}`, 'owner'],
  ['fifo', () => `fifo://${join(dir, uniqueName())}`, 'owner'],
  ['mq', () => `mq:///${uniqueName()}`, 'owner'],
  ['shm', () => `shm:///${uniqueName()}`, 'owner'],
  // Group mode keeps the control and rendezvous sockets in a directory of their own.
  ['mq', () => `mq:///${uniqueName()}`, 'group'],
  ['shm', () => `shm:///${uniqueName()}`, 'group'],
] as const;

describe.skipIf(process.platform !== 'linux')('named objects', () => {
  for (const [scheme, makeUrl, access] of endpoints) {
    it(`${scheme} (access ${access}): a killed server's names are listed as stale and removed; a live server's never`, async () => {
      const url = makeUrl();
      const crashed = await startServerProcess(url, 'calcServer.ts', { PROCWIRE_SERVE_OPTIONS: JSON.stringify({ access }) });
      const live = await listNamedObjects(url);
      expect(live.length).toBeGreaterThan(0);
      expect(live.every((o) => o.state === 'live')).toBe(true);
      expect(await removeStaleObjects(url)).toEqual([]);
      const client = await connect(calc, url);
      expect(await client.rpc.add({ a: 1, b: 1 })).toBe(2); // untouched
      await client.close();

      await crashed.kill('SIGKILL');
      const stale = await listNamedObjects(url);
      expect(stale.length).toBe(live.length);
      expect(stale.every((o) => o.state === 'stale')).toBe(true);
      const removed = await removeStaleObjects(url);
      expect(removed.map((o) => o.name).sort()).toEqual(stale.map((o) => o.name).sort());
      expect(await listNamedObjects(url)).toEqual([]);
      for (const o of removed) if (o.name.startsWith('/') && o.kind !== 'queue') expect(existsSync(o.name)).toBe(false);
      // A group endpoint directory goes with its socket.
      for (const o of removed) if (/procwire-(mq|shm)-/.test(o.name)) expect(existsSync(dirname(o.name))).toBe(false);
    });
  }
});
