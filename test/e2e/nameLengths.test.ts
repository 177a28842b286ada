/**
 * Names the URL check accepts must not fail later: every length that ends
 * up in effect (the socket path, the temporary path a socket is first bound
 * at, mq:'s control socket, shm:'s rendezvous, fifo:'s per-client pairs) is
 * checked at serve() and connect(), which reject with INVALID_ENDPOINT
 * naming the limit, and leave nothing behind. And removeStaleObjects never
 * removes what a live process holds, even when the usual probe cannot
 * reach it.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, listNamedObjects, removeStaleObjects, serve, ErrorCode, ProcwireError } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { calcHandlers } from '../fixtures/calcHandlers.js';
import { startServerProcess, uniqueName, type ServerProcess } from '../helpers/processes.js';
import { removeQueue } from '../helpers/queues.js';
import { native } from '@procwire/native';

/** Whether the message queue exists (/dev/mqueue may not be mounted). */
function queueExists(name: string): boolean {
  try {
    native.mqClose(native.mqOpen(name, native.constants.O_RDONLY, 0, 0, 0));
    return true;
  } catch {
    return false;
  }
}

const onLinux = process.platform === 'linux';
const root = mkdtempSync(join(tmpdir(), 'pw-len-'));
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.kill()));
  rmSync(root, { recursive: true, force: true });
});

async function refusal(attempt: Promise<{ close(): Promise<void> }>): Promise<ProcwireError | string> {
  try {
    await (await attempt).close();
    return 'resolved';
  } catch (error) {
    return error instanceof ProcwireError ? error : String(error);
  }
}

function expectInvalidEndpoint(outcome: ProcwireError | string, limit: RegExp): void {
  expect(outcome).toBeInstanceOf(ProcwireError);
  expect((outcome as ProcwireError).code, (outcome as ProcwireError).message).toBe(ErrorCode.INVALID_ENDPOINT);
  expect((outcome as ProcwireError).message).toMatch(limit);
}

/** A directory of exactly `bytes` bytes under the test root. */
function directoryOf(bytes: number): string {
  const dir = join(root, 'd'.repeat(bytes - root.length - 1));
  mkdirSync(dir, { recursive: true });
  expect(Buffer.byteLength(dir)).toBe(bytes);
  return dir;
}

const handlers = calcHandlers(() => undefined);
const noSignals = { shutdownSignals: false } as const;

describe.skipIf(process.platform === 'win32')('name lengths are checked where they take effect', () => {
  it('unix: a path that fits in a directory too long for the temporary bind path is refused, and no file is left', async () => {
    const dir = directoryOf(95);
    const url = `unix://${join(dir, 's.sock')}`; // 102 bytes: within sun_path itself
    expectInvalidEndpoint(await refusal(serve(calc, url, handlers, noSignals)), /107/);
    expect(readdirSync(dir)).toEqual([]);
    // A directory that leaves room works.
    const fits = directoryOf(88);
    const server = await serve(calc, `unix://${join(fits, 's.sock')}`, handlers, noSignals);
    const client = await connect(calc, server.url);
    expect(await client.rpc.add({ a: 1, b: 2 })).toBe(3);
    await client.close();
    await server.close();
    expect(readdirSync(fits)).toEqual([]);
  });

  it('fifo: a name whose client pairs cannot exist is refused at serve() and connect()', async () => {
    const url = `fifo://${join(root, 'f'.repeat(230))}`;
    expectInvalidEndpoint(await refusal(serve(calc, url, handlers, noSignals)), /255/);
    expectInvalidEndpoint(await refusal(connect(calc, url)), /255/);
    expect(readdirSync(root).filter((e) => e.startsWith('fff'))).toEqual([]);
  });

  it.runIf(onLinux)(
    'mq: a name whose control socket cannot be bound is refused at serve() and connect(), and no queue is made',
    async () => {
      const name = `/${uniqueName('len')}${'q'.repeat(100)}`;
      expect(name.length).toBeGreaterThanOrEqual(110);
      expectInvalidEndpoint(await refusal(serve(calc, `mq://${name}`, handlers, noSignals)), /107/);
      expectInvalidEndpoint(await refusal(connect(calc, `mq://${name}`)), /107/);
      expect(queueExists(name)).toBe(false);
    },
  );

  it.runIf(onLinux)('shm: a name whose rendezvous cannot be bound is refused at serve() and connect(), not with a raw errno', async () => {
    const name = `${uniqueName('len')}${'s'.repeat(65)}`;
    expectInvalidEndpoint(await refusal(serve(calc, `shm:///${name}`, handlers, noSignals)), /107/);
    expectInvalidEndpoint(await refusal(connect(calc, `shm:///${name}`)), /107/);
  });

  it.runIf(onLinux)(
    'mq: a live server whose control socket cannot be reached keeps its queue (removeStaleObjects)',
    { timeout: 30_000 },
    async () => {
      const name = `/${uniqueName('held')}`;
      const server = await startServerProcess(`mq://${name}`);
      servers.push(server);
      try {
        // Its control socket is gone (a cleaner of the temp directory, say): no probe reaches the server.
        const control = (await listNamedObjects(server.url)).find((o) => o.kind === 'control-socket')!;
        unlinkSync(control.name);
        const listed = await listNamedObjects(server.url);
        expect(listed).toEqual([{ kind: 'queue', name, state: 'live' }]);
        expect(await removeStaleObjects(server.url)).toEqual([]);
        expect(queueExists(name)).toBe(true);
        // Once its process is gone, the queue is stale and goes.
        await server.kill('SIGKILL');
        expect(await listNamedObjects(server.url)).toEqual([{ kind: 'queue', name, state: 'stale' }]);
        expect((await removeStaleObjects(server.url)).map((o) => o.name)).toEqual([name]);
      } finally {
        removeQueue(name);
      }
    },
  );
});
