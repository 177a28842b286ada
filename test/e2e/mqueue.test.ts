import { spawn as spawnProcess } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '@procwire/native';
import { connect, ErrorCode, serve } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { calcHandlers } from '../fixtures/calcHandlers.js';
import { codeOf } from '../helpers/errors.js';
import { FIXTURES, killWriterMidFrame, startServerProcess, uniqueName } from '../helpers/processes.js';
import { removeQueue } from '../helpers/queues.js';

const controlSocket = (name: string) =>
  join(process.env.XDG_RUNTIME_DIR || tmpdir(), `procwire-${process.getuid!()}`, `mq-${name.slice(1)}.sock`);

describe.skipIf(process.platform !== 'linux')('mq://', () => {
  it('creates its queue and control socket 0600 under umask 000, and removes both on SIGTERM', async () => {
    const name = `/${uniqueName()}`;
    const server = await startServerProcess(`mq://${name}`, 'umaskServer.ts', { UMASK: '000' });
    const mqd = native.mqOpen(name, native.constants.O_RDONLY, 0, 0, 0);
    const queue = native.fstat(mqd);
    native.mqClose(mqd);
    expect(queue.mode & 0o777).toBe(0o600);
    expect(queue.uid).toBe(process.getuid!());
    expect(lstatSync(controlSocket(name)).mode & 0o777).toBe(0o600);
    await server.kill('SIGTERM');
    expect(() => native.mqOpen(name, native.constants.O_RDONLY, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('a server restarted after a crash replaces the stale queue, and clients reconnect', async () => {
    const name = `/${uniqueName()}`;
    const first = await startServerProcess(`mq://${name}`);
    const client = await connect(calc, `mq://${name}`);
    const pending = codeOf(client.rpc.sleep({ ms: 10_000 }));
    await first.kill('SIGKILL');
    expect(await pending).toBe(ErrorCode.PEER_GONE);
    const second = await startServerProcess(`mq://${name}`);
    const again = await connect(calc, `mq://${name}`, { waitMs: 2000 });
    expect(await again.rpc.add({ a: 4, b: 5 })).toBe(9);
    expect(
      await codeOf(
        serve(
          calc,
          `mq://${name}`,
          calcHandlers(() => undefined),
          { shutdownSignals: false },
        ),
      ),
    ).toBe(ErrorCode.ADDRESS_IN_USE);
    await again.close();
    await second.kill();
    removeQueue(name);
  });

  it('a client killed in the middle of a chunked frame costs only its own connection', async () => {
    const name = `/${uniqueName()}`;
    const server = await startServerProcess(`mq://${name}`);
    const healthy = await connect(calc, server.url);
    await killWriterMidFrame(server.url);
    for (let i = 0; i < 50; i++) expect(await healthy.rpc.add({ a: i, b: 1 })).toBe(i + 1);
    const big = new Uint8Array(1_000_000).fill(3);
    expect(((await healthy.rpc.echo(big)) as Uint8Array).length).toBe(big.length);
    await healthy.close();
    await server.kill();
  });

  it('names the kernel limit when queues cannot be created', async () => {
    // Node has no setrlimit; prlimit(1) sets the limit for the child instead.
    const child = spawnProcess(
      'prlimit',
      ['--msgqueue=0', process.execPath, '--import', 'tsx', join(FIXTURES, 'serveOnce.ts'), `mq:///${uniqueName()}`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out).toMatch(/LISTEN_FAILED .*RLIMIT_MSGQUEUE/);
  });
});
