/**
 * Faults: a listener whose way in fails. When an mq: server can no longer
 * read its server queue (every client's frames arrive there), it must not
 * look alive while serving nobody: each connection ends with the reason,
 * the server closes, says why, and removes its names. strace makes every
 * mq_timedreceive of the running server fail with EBADF (the call is not
 * made), as a queue descriptor gone bad would.
 *
 * Needs strace and ptrace rights over one's own children (see
 * faultsSyscallErrors.test.ts).
 */
import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, listNamedObjects, type ProcwireError } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { linesOf, removeLeftovers, settle, waitFor } from '../fixtures/faultEndpoints.js';
import { FIXTURE_EXEC_ARGV, fixturePath, uniqueName } from '../helpers/processes.js';

const STRACE = '/usr/bin/strace';
const hasStrace = process.platform === 'linux' && spawnSync(STRACE, ['-V']).status === 0;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Makes every `call` of `pid`'s main thread fail with `errno`; resolves once strace is attached. */
async function failEvery(pid: number, call: string, errno: string): Promise<ChildProcess> {
  const tracer = spawnProcess(
    STRACE,
    ['-qq', '-o', '/dev/null', '-e', 'signal=none', '-e', `trace=${call}`, '-e', `inject=${call}:error=${errno}`, '-p', String(pid)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  cleanups.push(async () => {
    if (tracer.exitCode === null) tracer.kill('SIGINT');
    await exitOf(tracer);
  });
  await waitFor(`strace attached to ${pid}`, () => /^TracerPid:\s+[1-9]/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')), 10_000);
  return tracer;
}

describe.runIf(hasStrace)('a listener that can no longer accept ends, says why and closes', () => {
  it('mq: the server queue cannot be read', { timeout: 40_000 }, async () => {
    const url = `mq:///${uniqueName('lost')}`;
    const server = spawnProcess(process.execPath, [...FIXTURE_EXEC_ARGV, fixturePath('calcServer.ts'), url], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PROCWIRE_GRACE_MS: '200' },
    });
    const exited = exitOf(server);
    cleanups.push(async () => {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
      await exited;
      await removeLeftovers(url);
    });
    const stderr = linesOf(server.stderr!);
    await linesOf(server.stdout!).next(/^ready /, 20_000);
    const client = await connect(calc, url);
    cleanups.push(() => client.close().catch(() => {}));
    expect(await client.rpc.add({ a: 1, b: 2 })).toBe(3);

    await failEvery(server.pid!, 'mq_timedreceive', 'EBADF');
    // The call's frame reaches the queue the server can no longer read.
    const call = await settle(client.rpc.add({ a: 2, b: 2 }, { timeoutMs: 20_000 }));
    expect(call.ok).toBe(false);
    expect((call.error as ProcwireError).code).toBe(ErrorCode.PEER_GONE);
    // The server said why, closed, and its process ended by itself.
    const reason = await stderr.next(/reading the server queue failed/, 10_000);
    expect(reason.input).toMatch(/mq:\/\/\/lost-.*EBADF/);
    await waitFor('the server process exits', () => server.exitCode !== null || server.signalCode !== null, 10_000);
    expect(await exited).toEqual({ code: 0, signal: null });
    // Its queue and control socket went with it.
    expect(await listNamedObjects(url)).toEqual([]);
  });
});
