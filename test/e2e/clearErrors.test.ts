/**
 * Errors that say what happened:
 * - a path that is not a FIFO is not "in use": it is no procwire endpoint;
 * - a limit of this user (mq:'s RLIMIT_MSGQUEUE) is reported at once, not
 *   retried for the whole waitMs as if the server might lift it;
 * - a reconnecting client that has given up for good says so, on every
 *   transport it can dial.
 * (The handshake-gate refusal naming its limit is checked in
 * handshakeGate.test.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, removeStaleObjects, ErrorCode, ProcwireError } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { FIXTURE_EXEC_ARGV, fixturePath, startServerProcess, uniqueName, type ServerProcess } from '../helpers/processes.js';
import { removeQueue } from '../helpers/queues.js';

const onLinux = process.platform === 'linux';
const dir = mkdtempSync(join(tmpdir(), 'pw-errs-'));
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.kill()));
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(process.platform === 'win32')('errors that say what happened', () => {
  it('fifo: a regular file is not a procwire fifo endpoint', async () => {
    const file = join(dir, 'hostname');
    writeFileSync(file, 'not a fifo\n');
    for (const url of [`fifo://${file}`, ...(onLinux ? ['fifo:///etc/hostname'] : [])]) {
      const error = await connect(calc, url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProcwireError);
      expect((error as ProcwireError).code).toBe(ErrorCode.INVALID_ENDPOINT);
      expect((error as ProcwireError).message).toMatch(/is not a procwire fifo endpoint \(it is a regular file/);
    }
  });

  it.runIf(onLinux)(
    'mq: a client past its RLIMIT_MSGQUEUE fails at once, naming it, even with a long waitMs',
    { timeout: 60_000 },
    async () => {
      const name = `/${uniqueName('rlim')}`;
      const server = await startServerProcess(`mq://${name}`);
      servers.push(server);
      try {
        // The client runs with a message-queue limit of 0 bytes: its reply queue cannot be made.
        const node = [process.execPath, ...FIXTURE_EXEC_ARGV, fixturePath('waitingClient.ts'), server.url, '20000']
          .map((a) => `'${a}'`)
          .join(' ');
        const child = spawn('bash', ['-c', `ulimit -q 0 && exec ${node}`], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
        await new Promise((resolve) => child.once('exit', resolve));
        const result = JSON.parse(out) as { code: string; message: string; ms: number };
        expect(result.code).toBe(ErrorCode.CONNECT_FAILED);
        expect(result.message).toMatch(/RLIMIT_MSGQUEUE/);
        expect(result.ms).toBeLessThan(10_000); // not the 20 s of waitMs
      } finally {
        await server.kill();
        removeQueue(name);
      }
    },
  );

  const dialled = [
    ['unix', () => `unix://${join(dir, `${uniqueName()}.sock`)}`, true],
    ['tcp', () => 'tcp://127.0.0.1:0', true],
    ['fifo', () => `fifo://${join(dir, uniqueName())}`, true],
    ['mq', () => `mq:///${uniqueName()}`, onLinux],
    ['shm', () => `shm:///${uniqueName()}?wait=sleep`, onLinux],
  ] as const;
  for (const [name, makeUrl, available] of dialled) {
    it.runIf(available)(`${name}: a reconnecting client that gave up says so, not "reconnecting"`, { timeout: 30_000 }, async () => {
      const server = await startServerProcess(makeUrl());
      servers.push(server);
      const client = await connect(calc, server.url, { reconnect: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 50 } });
      try {
        expect(await client.rpc.add({ a: 1, b: 1 })).toBe(2);
        await server.kill('SIGKILL');
        const ended = await client.closed;
        expect(ended?.code).toBe(ErrorCode.PEER_GONE);
        const error = await client.rpc.add({ a: 1, b: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ProcwireError);
        expect((error as ProcwireError).code).toBe(ErrorCode.PEER_GONE);
        expect((error as ProcwireError).message).not.toMatch(/; reconnecting$/);
        expect((error as ProcwireError).message).toMatch(/2 reconnect attempts failed; no longer reconnecting/);
      } finally {
        await client.close();
        if (server.url.startsWith('mq:')) removeQueue(server.url.slice('mq://'.length));
        if (server.url.startsWith('shm:')) await removeStaleObjects(server.url);
        if (server.url.startsWith('fifo:')) rmSync(server.url.slice('fifo://'.length), { force: true });
      }
    });
  }
});
