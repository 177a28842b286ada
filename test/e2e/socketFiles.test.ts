import { lstatSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, serve } from 'procwire';
import { resolveEndpoint, type Link } from 'procwire/link';
import { calc } from '../fixtures/calc.js';
import { calcHandlers } from '../fixtures/calcHandlers.js';
import { codeOf } from '../helpers/errors.js';
import { startServerProcess, tempSocketPath, type ServerProcess } from '../helpers/processes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe.skipIf(process.platform === 'win32')('unix socket files', () => {
  for (const umask of ['022', '000']) {
    it(`are created 0600 under umask ${umask}, owned by the server's uid, and removed on close`, async () => {
      const path = tempSocketPath();
      const server: ServerProcess = await startServerProcess(`unix://${path}`, 'umaskServer.ts', { UMASK: umask });
      cleanups.push(() => server.kill());
      const info = lstatSync(path);
      expect(info.isSocket()).toBe(true);
      expect(info.mode & 0o777).toBe(0o600);
      expect(info.uid).toBe(process.getuid!());
      await server.kill('SIGTERM');
      expect(existsSync(path)).toBe(false);
    });
  }

  it('replaces a stale socket file left by a killed server', async () => {
    const path = tempSocketPath();
    const first = await startServerProcess(`unix://${path}`);
    await first.kill('SIGKILL');
    expect(existsSync(path)).toBe(true); // a SIGKILLed server cannot clean up
    const second = await startServerProcess(`unix://${path}`);
    cleanups.push(() => second.kill());
    const client = await connect(calc, `unix://${path}`);
    expect(await client.rpc.add({ a: 1, b: 1 })).toBe(2);
    await client.close();
  });

  it('never takes over the path of a live server (ADDRESS_IN_USE)', async () => {
    const path = tempSocketPath();
    const live = await startServerProcess(`unix://${path}`);
    cleanups.push(() => live.kill());
    expect(
      await codeOf(
        serve(
          calc,
          `unix://${path}`,
          calcHandlers(() => undefined),
        ),
      ),
    ).toBe(ErrorCode.ADDRESS_IN_USE);
    const client = await connect(calc, `unix://${path}`);
    expect(await client.rpc.add({ a: 2, b: 2 })).toBe(4); // still the first server
    await client.close();
  });

  it('refuses to replace a path that is not a socket', async () => {
    const path = tempSocketPath();
    writeFileSync(path, 'precious');
    cleanups.push(() => rmSync(path, { force: true }));
    expect(
      await codeOf(
        serve(
          calc,
          `unix://${path}`,
          calcHandlers(() => undefined),
        ),
      ),
    ).toBe(ErrorCode.ADDRESS_IN_USE);
  });

  it('reports ADDRESS_IN_USE for a live abstract name and a busy TCP port', async () => {
    const name = `unix:@pw-abstract-${process.pid}`;
    const first = await serve(
      calc,
      name,
      calcHandlers(() => undefined),
    );
    cleanups.push(() => first.close());
    expect(
      await codeOf(
        serve(
          calc,
          name,
          calcHandlers(() => undefined),
        ),
      ),
    ).toBe(ErrorCode.ADDRESS_IN_USE);
    const tcp = await serve(
      calc,
      'tcp://127.0.0.1:0',
      calcHandlers(() => undefined),
    );
    cleanups.push(() => tcp.close());
    expect(
      await codeOf(
        serve(
          calc,
          tcp.url,
          calcHandlers(() => undefined),
        ),
      ),
    ).toBe(ErrorCode.ADDRESS_IN_USE);
  });

  it('does not remove a file that replaced its own after it started', async () => {
    const path = tempSocketPath();
    const server = await serve(
      calc,
      `unix://${path}`,
      calcHandlers(() => undefined),
    );
    rmSync(path);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(path, resolve));
    await server.close();
    expect(existsSync(path)).toBe(true);
    await new Promise((resolve) => squatter.close(resolve));
  });
});

describe('endpoint errors', () => {
  it.each([
    ['', ErrorCode.INVALID_ENDPOINT],
    ['calc.sock', ErrorCode.INVALID_ENDPOINT],
    ['foo://x', ErrorCode.INVALID_ENDPOINT],
    ['unix:relative/path.sock', ErrorCode.INVALID_ENDPOINT],
    [`unix:///tmp/${'x'.repeat(120)}.sock`, ErrorCode.INVALID_ENDPOINT],
    ['tcp://127.0.0.1', ErrorCode.INVALID_ENDPOINT],
    ['socketpair:', ErrorCode.INVALID_ENDPOINT],
  ])('connect(%j) fails with %s', async (url, code) => {
    expect(await codeOf(connect(calc, url))).toBe(code);
  });

  it('serve on socketpair: outside a spawned worker explains itself', async () => {
    const error = serve(
      calc,
      'socketpair:',
      calcHandlers(() => undefined),
    );
    await expect(error).rejects.toThrow(/spawn\(\)/);
  });

  it('a connection that arrives before the acceptor is started is handed over, not dropped', async () => {
    // A client retrying with waitMs can connect the moment the socket file
    // appears, before the server has started accepting.
    const path = tempSocketPath();
    const { endpoint, transport } = resolveEndpoint(`unix://${path}`);
    const acceptor = await transport.listen(endpoint, {});
    const early = createConnection(path);
    await new Promise((resolve) => early.once('connect', resolve));
    await sleep(50);
    const links: Link[] = [];
    acceptor.start((link) => links.push(link));
    expect(links).toHaveLength(1);
    early.destroy();
    links[0]!.destroy();
    await acceptor.close();
  });

  it('connect to nothing gives CONNECT_FAILED naming the endpoint, or waits with waitMs', async () => {
    const path = tempSocketPath();
    await expect(connect(calc, `unix://${path}`)).rejects.toMatchObject({
      code: ErrorCode.CONNECT_FAILED,
      message: expect.stringContaining(path),
    });
    const started = performance.now();
    await expect(connect(calc, `unix://${path}`, { waitMs: 300 })).rejects.toMatchObject({ code: ErrorCode.CONNECT_FAILED });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    const late = connect(calc, `unix://${path}`, { waitMs: 5000 });
    const server = await startServerProcess(`unix://${path}`);
    cleanups.push(() => server.kill());
    const client = await late;
    expect(await client.rpc.add({ a: 3, b: 4 })).toBe(7);
    await client.close();
  });
});
