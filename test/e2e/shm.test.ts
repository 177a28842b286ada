/**
 * shm:///name beyond the conformance suite: its named object, anonymous
 * segments, peer death in the middle of a frame, the wait policies, many
 * clients, and its URL options.
 */
import { spawn as spawnProcess } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, ErrorCode, listNamedObjects, removeStaleObjects, serve, type Server } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { calcHandlers } from '../fixtures/calcHandlers.js';
import { codeOf } from '../helpers/errors.js';
import { watchLoopLag } from '../helpers/loopLag.js';
import { FIXTURES, killWriterMidFrame, startServerProcess, uniqueName } from '../helpers/processes.js';

const runtimeDir = () => join(process.env.XDG_RUNTIME_DIR || tmpdir(), `procwire-${process.getuid!()}`);
const rendezvous = (name: string) => join(runtimeDir(), `shm-${name}.sock`);

/** The memfd segments mapped by process `pid` (from /proc/pid/maps). */
function mappedSegments(pid: number): number {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((line) => line.includes('/memfd:procwire-shm')).length;
}

/** CPU time (user + system) of process `pid` in milliseconds. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

describe.skipIf(process.platform !== 'linux')('shm://', () => {
  it('names only its rendezvous socket (0600 in a 0700 dir, under umask 000); segments are anonymous and unmapped on close', async () => {
    const name = uniqueName();
    const shmBefore = readdirSync('/dev/shm').length;
    const server = await startServerProcess(`shm:///${name}`, 'umaskServer.ts', { UMASK: '000' });
    expect(lstatSync(rendezvous(name)).mode & 0o777).toBe(0o600);
    expect(lstatSync(runtimeDir()).mode & 0o777).toBe(0o700);
    const clients = await Promise.all([1, 2, 3].map(() => connect(calc, `shm:///${name}`)));
    expect(await Promise.all(clients.map((c, i) => c.rpc.add({ a: i, b: 1 })))).toEqual([1, 2, 3]);
    // Two rings per connection, one mapping each side; nothing in /dev/shm.
    expect(mappedSegments(server.child.pid!)).toBe(3);
    expect(readdirSync('/dev/shm').length).toBe(shmBefore);
    await Promise.all(clients.map((c) => c.close()));
    await expect.poll(() => mappedSegments(server.child.pid!), { timeout: 10_000 }).toBe(0);
    await server.kill('SIGTERM');
    expect(() => lstatSync(rendezvous(name))).toThrow(/ENOENT/);
  });

  it('a live server keeps its name (ADDRESS_IN_USE); a crashed one is replaced and clients reconnect', async () => {
    const name = uniqueName();
    const url = `shm:///${name}`;
    const first = await startServerProcess(url);
    expect(
      await codeOf(
        serve(
          calc,
          url,
          calcHandlers(() => undefined),
          { shutdownSignals: false },
        ),
      ),
    ).toBe(ErrorCode.ADDRESS_IN_USE);
    expect(await listNamedObjects(url)).toEqual([{ kind: 'rendezvous-socket', name: rendezvous(name), state: 'live' }]);
    const client = await connect(calc, url);
    const pending = codeOf(client.rpc.sleep({ ms: 10_000 }));
    const lag = watchLoopLag();
    const killedAt = performance.now();
    await first.kill('SIGKILL');
    expect(await pending).toBe(ErrorCode.PEER_GONE);
    // Within 500 ms, plus however late this process's event loop ran meanwhile (a busy machine).
    expect(performance.now() - killedAt).toBeLessThan(500 + lag.stop());
    expect(await listNamedObjects(url)).toEqual([{ kind: 'rendezvous-socket', name: rendezvous(name), state: 'stale' }]);
    const second = await startServerProcess(url);
    const again = await connect(calc, url, { waitMs: 2000 });
    expect(await again.rpc.add({ a: 4, b: 5 })).toBe(9);
    await again.close();
    await second.kill();
    expect(await removeStaleObjects(url)).toEqual([]);
  });

  it('a client killed in the middle of a frame costs only its own connection', async () => {
    const name = uniqueName();
    const server = await startServerProcess(`shm:///${name}`);
    const healthy = await connect(calc, `shm:///${name}`);
    await killWriterMidFrame(`shm:///${name}`);
    expect(await healthy.rpc.add({ a: 1, b: 2 })).toBe(3);
    await expect.poll(() => mappedSegments(server.child.pid!), { timeout: 10_000 }).toBe(1);
    await healthy.close();
    await server.kill();
  });

  it('a server killed while the client waits for ring room: the call rejects PEER_GONE within 500 ms', async () => {
    const name = uniqueName();
    // A 4 KiB ring and a server that never reads (SIGSTOP): the client blocks mid-frame.
    const server = await startServerProcess(`shm:///${name}?ringBytes=4096`);
    const client = await connect(calc, `shm:///${name}`);
    server.child.kill('SIGSTOP');
    const pending = codeOf(client.rpc.echo(new Uint8Array(1_000_000)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lag = watchLoopLag();
    const killedAt = performance.now();
    await server.kill('SIGKILL');
    expect(await pending).toBe(ErrorCode.PEER_GONE);
    expect(performance.now() - killedAt).toBeLessThan(500 + lag.stop());
    await removeStaleObjects(`shm:///${name}`);
  });

  it('frames far larger than the ring cross intact both ways', async () => {
    const name = uniqueName();
    const server = await startServerProcess(`shm:///${name}?ringBytes=4096`);
    const client = await connect(calc, `shm:///${name}`);
    const payload = new Uint8Array(3_000_000).map((_, i) => (i * 7) % 251);
    const back = (await client.rpc.echo(payload)) as Uint8Array;
    expect(Buffer.from(back).equals(Buffer.from(payload))).toBe(true);
    await client.close();
    await server.kill();
  });

  it('serves 20 clients at once, each answered correctly', async () => {
    const name = uniqueName();
    const server = await startServerProcess(`shm:///${name}`);
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(calc, `shm:///${name}`)));
    const results = await Promise.all(
      clients.map(async (client, c) => {
        const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => client.rpc.add({ a: c * 1000, b: i })));
        return sums.every((sum, i) => sum === c * 1000 + i);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
    await server.kill();
  });

  it('spinning never holds the event loop: timers keep their time, and the spin ends after spinMicros', async () => {
    const name = uniqueName();
    let server: Server<typeof calc> | undefined;
    server = await serve(
      calc,
      `shm:///${name}?wait=sleep`,
      calcHandlers(() => server),
      { shutdownSignals: false },
    );
    // Spin for up to 1 s after the last message. (The heartbeat's ping after
    // 1 s of silence would be traffic that starts another spin window.)
    const client = await connect(calc, `shm:///${name}?wait=spin&spinMicros=1000000`, { heartbeatMs: 0 });
    await client.rpc.add({ a: 1, b: 1 });
    const cpuBefore = process.cpuUsage();
    const lags: number[] = [];
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      lags.push(now - last - 5);
      last = now;
    }, 5);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const spinning = process.cpuUsage(cpuBefore);
    const spinningLags = lags.splice(0);
    await new Promise((resolve) => setTimeout(resolve, 800));
    lags.length = 0;
    const idleBefore = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = process.cpuUsage(idleBefore);
    clearInterval(ticker);
    // While it spins the loop still turns: a 5 ms timer fires about as on
    // time as while idle (medians; how late a timer is on this machine
    // depends on what else runs, so the idle second is the yardstick).
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? Infinity;
    expect(median(spinningLags)).toBeLessThan(median(lags) + 5);
    // Per millisecond, about as many ticks while spinning as while idle (a held loop gives few).
    expect(spinningLags.length / 700).toBeGreaterThan((lags.length / 1000) * 0.5);
    // It did spin (it used the CPU it got, several times what it uses idle), then went to sleep.
    const spinningMs = (spinning.user + spinning.system) / 1000;
    const idleMs = (idle.user + idle.system) / 1000;
    // (A spinner on a busy machine yields its turn to others, so it may get
    // little CPU; the test's own ticker costs the same in both periods.)
    expect(spinningMs / 700, `spinning ${spinningMs} ms in 700 ms, idle ${idleMs} ms in 1 s`).toBeGreaterThan((1.25 * idleMs) / 1000);
    expect(idleMs).toBeLessThan(100);
    await client.close();
    await server.close();
  });

  it('an idle connection with the sleep policy uses no measurable CPU', async () => {
    const name = uniqueName();
    const server = await startServerProcess(`shm:///${name}?wait=sleep`);
    const client = spawnProcess(process.execPath, ['--import', 'tsx', join(FIXTURES, 'idleClient.ts'), `shm:///${name}?wait=sleep`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => client.stdout!.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = [cpuMs(server.child.pid!), cpuMs(client.pid!)];
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const used = [cpuMs(server.child.pid!) - before[0]!, cpuMs(client.pid!) - before[1]!];
    // USER_HZ is 100: one tick is 10 ms, the resolution of /proc/pid/stat.
    expect(used[0]).toBeLessThanOrEqual(10);
    expect(used[1]).toBeLessThanOrEqual(10);
    client.kill('SIGKILL');
    await server.kill();
  });

  it('refuses bad URLs with INVALID_ENDPOINT naming the problem', async () => {
    const bad = {
      'shm://host/x': /no host/,
      'shm:///a/b': /shm:\/\/\/name/,
      'shm:///x?wait=fast': /wait= must be spin, sleep or auto/,
      'shm:///x?spinMicros=-1': /spinMicros= must be an integer/,
      'shm:///x?ringBytes=5000': /power of two/,
      'shm:///x?ringBytes=1024': /ringBytes= must be an integer from 4096/,
      'shm:///x?colour=blue': /unknown option "colour"/,
    };
    for (const [url, message] of Object.entries(bad)) {
      const error = (await connect(calc, url).then(
        () => new Error('connected'),
        (e: unknown) => e,
      )) as Error & { code?: string };
      expect(error.code, url).toBe(ErrorCode.INVALID_ENDPOINT);
      expect(error.message, url).toMatch(message);
    }
    expect(await codeOf(connect(calc, `shm:///${uniqueName()}`))).toBe(ErrorCode.CONNECT_FAILED);
  });
});
