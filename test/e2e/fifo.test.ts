import { existsSync, lstatSync, readdirSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, serve } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { calcHandlers } from '../fixtures/calcHandlers.js';
import { codeOf } from '../helpers/errors.js';
import { killWriterMidFrame, startServerProcess } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-fifo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const nextPath = () => join(dir, `calc${counter++}`);

describe.skipIf(process.platform === 'win32')('fifo://', () => {
  for (const umask of ['022', '000']) {
    it(`creates its FIFO 0600 under umask ${umask}, leaves no client names behind, and removes it on SIGTERM`, async () => {
      const path = nextPath();
      const server = await startServerProcess(`fifo://${path}`, 'umaskServer.ts', { UMASK: umask });
      const info = lstatSync(path);
      expect(info.isFIFO()).toBe(true);
      expect(info.mode & 0o777).toBe(0o600);
      expect(info.uid).toBe(process.getuid!());
      const client = await connect(calc, `fifo://${path}`);
      expect(await client.rpc.add({ a: 1, b: 2 })).toBe(3);
      expect(readdirSync(dir).filter((name) => name.startsWith(`${path.split('/').pop()}.`))).toEqual([]);
      await client.close();
      await server.kill('SIGTERM');
      expect(existsSync(path)).toBe(false);
    });
  }

  it('serves many clients at once without interleaving their large frames', async () => {
    const server = await startServerProcess(`fifo://${nextPath()}`);
    const clients = await Promise.all(Array.from({ length: 12 }, () => connect(calc, server.url)));
    const results = await Promise.all(
      clients.map(async (client, i) => {
        const big = new Uint8Array(300_000).fill(i);
        const echoed = (await client.rpc.echo(big)) as Uint8Array;
        return echoed.length === big.length && echoed.every((b) => b === i);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
    await server.kill();
  });

  it('a writer killed in the middle of a frame costs only its own connection', async () => {
    const server = await startServerProcess(`fifo://${nextPath()}`);
    const healthy = await connect(calc, server.url);
    await killWriterMidFrame(server.url);
    for (let i = 0; i < 50; i++) expect(await healthy.rpc.add({ a: i, b: 1 })).toBe(i + 1);
    const another = await connect(calc, server.url);
    expect(await another.rpc.add({ a: 2, b: 2 })).toBe(4);
    await Promise.all([healthy.close(), another.close()]);
    await server.kill();
  });

  it('replaces a stale FIFO, refuses a live one and anything that is not a FIFO', async () => {
    const path = nextPath();
    const crashed = await startServerProcess(`fifo://${path}`);
    await crashed.kill('SIGKILL');
    expect(lstatSync(path).isFIFO()).toBe(true); // left behind
    const restarted = await startServerProcess(`fifo://${path}`);
    const client = await connect(calc, `fifo://${path}`);
    expect(await client.rpc.add({ a: 5, b: 5 })).toBe(10);
    expect(
      await codeOf(
        serve(
          calc,
          `fifo://${path}`,
          calcHandlers(() => undefined),
          { shutdownSignals: false },
        ),
      ),
    ).toBe(ErrorCode.ADDRESS_IN_USE);
    await client.close();
    await restarted.kill();
    const plain = nextPath();
    writeFileSync(plain, 'precious');
    expect(
      await codeOf(
        serve(
          calc,
          `fifo://${plain}`,
          calcHandlers(() => undefined),
          { shutdownSignals: false },
        ),
      ),
    ).toBe(ErrorCode.ADDRESS_IN_USE);
    expect(await codeOf(connect(calc, `fifo://${nextPath()}`))).toBe(ErrorCode.CONNECT_FAILED);
    expect(await codeOf(connect(calc, 'fifo://host/x'))).toBe(ErrorCode.INVALID_ENDPOINT);
  });
});
