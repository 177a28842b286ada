import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, ErrorCode, type ProcwireError, spawn } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { codeOf } from '../helpers/errors.js';
import { FIXTURES, startServerProcess, tempSocketPath } from '../helpers/processes.js';

/**
 * Resolves once the server refuses new calls with SHUTTING_DOWN: the signal
 * has been handled (how long that takes depends on how busy the machine is).
 */
async function shuttingDown(client: { rpc: { add(input: { a: number; b: number }): Promise<number> } }): Promise<void> {
  const deadline = performance.now() + 10_000;
  while ((await codeOf(client.rpc.add({ a: 1, b: 2 })).catch(() => 'NO ERROR')) !== ErrorCode.SHUTTING_DOWN) {
    if (performance.now() > deadline) throw new Error('the server did not start shutting down within 10 s');
    await sleep(10);
  }
}

describe.skipIf(process.platform === 'win32')('shutdown signals', () => {
  it('SIGTERM: running calls finish, new ones get SHUTTING_DOWN, the socket file goes, the process ends by SIGTERM', async () => {
    const path = tempSocketPath();
    const server = await startServerProcess(`unix://${path}`, 'calcServer.ts', { PROCWIRE_GRACE_MS: '3000' });
    const client = await connect(calc, server.url);
    const running = client.rpc.sleep({ ms: 300 });
    // Calls on one connection are taken in order: once this answers, the sleep runs.
    expect(await client.rpc.add({ a: 0, b: 0 })).toBe(0);
    server.child.kill('SIGTERM');
    await shuttingDown(client);
    expect(await running).toBe('done');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(existsSync(path)).toBe(false);
  });

  it('calls still running when the grace period ends get SHUTTING_DOWN and their handlers are aborted', async () => {
    const server = await startServerProcess(`unix://${tempSocketPath()}`, 'calcServer.ts', { PROCWIRE_GRACE_MS: '200' });
    const client = await connect(calc, server.url);
    const long = codeOf(client.rpc.sleep({ ms: 10_000 }));
    expect(await client.rpc.add({ a: 0, b: 0 })).toBe(0);
    const sentAt = performance.now();
    server.child.kill('SIGTERM');
    expect(await long).toBe(ErrorCode.SHUTTING_DOWN);
    expect(performance.now() - sentAt).toBeLessThan(2000);
    expect((await server.exited).signal).toBe('SIGTERM');
  });

  it('SIGINT ends the process by SIGINT; a second signal does not wait for the grace period', async () => {
    const server = await startServerProcess(`unix://${tempSocketPath()}`, 'calcServer.ts', { PROCWIRE_GRACE_MS: '20000' });
    const client = await connect(calc, server.url);
    const long = codeOf(client.rpc.sleep({ ms: 30_000 }));
    expect(await client.rpc.add({ a: 0, b: 0 })).toBe(0);
    server.child.kill('SIGINT');
    // The second signal must come after the first was handled, not merge with it.
    await shuttingDown(client);
    server.child.kill('SIGINT');
    expect((await server.exited).signal).toBe('SIGINT');
    expect(await long).toBe(ErrorCode.PEER_GONE);
  });

  it('a spawned worker stopped by SIGTERM is reported with its signal in PEER_GONE', async () => {
    const worker = await spawn(calc, join(FIXTURES, 'calcServer.ts'), {
      execArgv: ['--import', 'tsx'],
      env: { PROCWIRE_GRACE_MS: '100' },
    });
    const pending = worker.rpc.sleep({ ms: 10_000 }).catch((e: unknown) => e);
    expect(await worker.rpc.add({ a: 0, b: 0 })).toBe(0);
    worker.process.kill('SIGTERM');
    const error = (await pending) as ProcwireError;
    expect(error.code).toBe(ErrorCode.SHUTTING_DOWN);
    const after = (await worker.closed) as ProcwireError;
    expect(after.code).toBe(ErrorCode.PEER_GONE);
    expect(after.message).toMatch(/SIGTERM/);
    await worker.close();
  });
});
