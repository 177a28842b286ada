/**
 * shm: against hostile peers, across real processes. The reader of a ring
 * never trusts the writer (packages/native/src/common/ring.h): whatever a
 * client writes into the shared segment, the server closes that one
 * connection (PROTOCOL or FRAME_TOO_LARGE) within a bounded time, lets go
 * of what it held, never crashes, and keeps serving everyone else. And a
 * client refuses a segment a hostile or broken server offers before mapping
 * it. The ring itself is fuzzed on its own: packages/native/fuzz/run.sh.
 * The last three tests of the first group keep bugs these attacks found
 * from coming back.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { ftruncateSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { native } from '@procwire/native';
import { connect, ErrorCode, ProcwireError, type Client } from 'procwire';
import { resolveEndpoint, type Link } from 'procwire/link';
import { calc } from '../fixtures/calc.js';
import type { Outcome } from '../fixtures/shmHostilePeer.js';
import { ringBell, segmentBytes, SegmentFile, TAIL_AT } from '../fixtures/shmHostileLayout.js';
import { fakeShmServer, sendOffer } from '../fixtures/shmHostileServer.js';
import { codeOf } from '../helpers/errors.js';
import { FIXTURES, startServerProcess, uniqueName, type ServerProcess } from '../helpers/processes.js';
import { recordHardening } from '../helpers/hardenTally.js';

/** Every named attack of shmHostilePeer.ts. */
const NAMED_ATTACKS = [
  'hello-garbage',
  'hello-with-fds',
  'tail-past-capacity',
  'tail-2^31',
  'tail-2^32-1',
  'length-zero',
  'length-over-limit',
  'length-2^31',
  'length-2^32-1',
  'length-over-ring-then-tail-overflow',
  'garbage-records',
  'head-ahead-of-tail',
  'head-2^31',
  'head-capacity-plus-1-behind',
  'flags-and-bell-storm',
  'length-over-published-small',
  'length-over-published-large',
];
const RANDOM_RUNS = 50;
/** The server must close a corrupted connection within this (a loaded 2-CPU machine included). */
const CLOSE_BOUND_MS = 2000;
const RSS_GROWTH_LIMIT_KB = 2048;
const RSS_TOTAL_LIMIT_KB = 12 * 1024;
/** How often the cheapest attack is repeated to make a per-connection leak show. */
const ATTACK_REPEATS = 200;

/** Runs one hostile peer process through `attacks`, one connection each. */
function runPeer(name: string, attacks: string[]): Promise<Outcome[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, 'shmHostilePeer.ts'), name, ...attacks], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      if (code !== 0) return reject(new Error(`hostile peer exited with ${code ?? signal}: ${out}`));
      resolve(
        out
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Outcome),
      );
    });
  });
}

interface Held {
  /** VmRSS in kB, after full garbage collections. */
  rss: number;
  /** Connections the server counts as open. */
  connections: number;
  /** Open descriptors, and mappings of shm segments (memfd_create names them). */
  fds: number;
  segments: number;
}

/** What the server holds now (see shmHostileTarget.ts for the collection it runs first). */
function held(server: ServerProcess): Promise<Held> {
  const pid = server.child.pid!;
  return new Promise((resolve) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^held rss=(\d+) connections=(\d+)/m.exec(out);
      if (!line) return;
      server.child.stdout!.off('data', onData);
      const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
      resolve({
        rss: Number(line[1]),
        connections: Number(line[2]),
        fds: readdirSync(`/proc/${pid}/fd`).length,
        segments: maps.filter((entry) => entry.includes('memfd:procwire-shm')).length,
      });
    };
    server.child.stdout!.on('data', onData);
    server.child.kill('SIGUSR2');
  });
}

function startTarget(prefix: string): Promise<ServerProcess> {
  return startServerProcess(`shm:///${uniqueName(prefix)}`, 'shmHostileTarget.ts', {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc`,
    // A fixed threshold: glibc would otherwise raise it after the first large
    // free and keep later multi-MB buffers (frames read in pieces) resident
    // once freed, which is no leak but looks like one.
    MALLOC_MMAP_THRESHOLD_: String(128 * 1024),
  });
}

/** A client calling the server back to back until stopped; every answer is checked. */
function callContinuously(client: Client<typeof calc>, wrong: string[]): { calls: () => number; stop: () => Promise<void> } {
  let stop = false;
  let calls = 0;
  const loop = (async () => {
    while (!stop) {
      const a = calls;
      const sum = await client.rpc.add({ a, b: 1 });
      if (sum !== a + 1) wrong.push(`add(${a}, 1) = ${sum}`);
      calls++;
    }
  })();
  return {
    calls: () => calls,
    stop: async () => {
      stop = true;
      await loop;
    },
  };
}

const nameOf = (url: string) => new URL(url).pathname.slice(1);
const describeHeld = (h: Held) => `RSS ${h.rss} kB, ${h.connections} connections, ${h.fds} descriptors, ${h.segments} segments mapped`;

function randomSeeds(): number[] {
  const seed = Number(process.env.PROCWIRE_SHM_HOSTILE_SEED ?? randomInt(2 ** 31));
  const seeds = Array.from({ length: RANDOM_RUNS }, (_, i) => (seed + i) >>> 0);
  console.log(`shm hostile peers: random seeds ${seeds[0]}..${seeds.at(-1)} (PROCWIRE_SHM_HOSTILE_SEED=${seed} replays them)`);
  return seeds;
}

describe.skipIf(process.platform !== 'linux')('shm:// against hostile peers', () => {
  it('closes every corrupted connection in bounded time, never crashes, and keeps serving a healthy client', async () => {
    const seeds = randomSeeds();
    const server = await startTarget('shm-hostile');
    onTestFinished(() => server.kill());
    const name = nameOf(server.url);
    const healthy = await connect(calc, server.url);
    onTestFinished(() => healthy.close());
    const wrong: string[] = [];
    const calling = callContinuously(healthy, wrong);

    // One round alone first, then the same again alongside two processes of
    // random attacks: several hostile peers at once.
    const warmUp = await runPeer(name, NAMED_ATTACKS);
    const before = await held(server);
    const half = RANDOM_RUNS / 2;
    const rounds = await Promise.all([
      runPeer(name, NAMED_ATTACKS),
      runPeer(
        name,
        seeds.slice(0, half).map((s) => `random:${s}`),
      ),
      runPeer(
        name,
        seeds.slice(half).map((s) => `random:${s}`),
      ),
    ]);
    await calling.stop();
    const after = await held(server);

    const outcomes = [...warmUp, ...rounds.flat()];
    const slowest = outcomes.reduce((a, b) => (b.ms > a.ms ? b : a));
    console.log(
      `shm hostile peers: ${outcomes.length} attacks, slowest close ${slowest.ms} ms (${slowest.attack}); ` +
        `healthy client made ${calling.calls()} calls; server before: ${describeHeld(before)}; after: ${describeHeld(after)}`,
    );
    const notClosed = outcomes
      .filter((o) => !o.closed || o.ms > CLOSE_BOUND_MS)
      .map((o) => `${o.attack}: ${o.closed ? `closed after ${o.ms} ms` : 'not closed'} ${o.detail ?? ''}`);
    recordHardening({
      section: 'bad input',
      name: 'shared-memory ring corruption (named + seeded random) over shm',
      tried: outcomes.length,
      passed: outcomes.length - notClosed.length,
      lost: wrong.length,
      detail: `slowest close ${slowest.ms} ms; healthy client ${calling.calls()} calls`,
    });
    expect(notClosed, 'connections the server did not close in time').toEqual([]);
    expect(outcomes.length).toBe(2 * NAMED_ATTACKS.length + RANDOM_RUNS);
    expect(server.child.exitCode, 'the server process exited').toBeNull();
    expect(server.child.signalCode, 'the server process was killed').toBeNull();
    expect(wrong).toEqual([]);
    expect(calling.calls()).toBeGreaterThan(100);
    // The closed connections' descriptors are closed and their segments unmapped.
    expect(after.fds, 'server descriptors').toBeLessThanOrEqual(before.fds);
    expect(after.segments, 'server mappings of shm segments').toBe(1);

    // Still whole: a frame larger than the ring, both ways.
    const big = new Uint8Array(3 * 1024 * 1024).fill(5);
    expect(((await healthy.rpc.echo(big)) as Uint8Array).length).toBe(big.length);
  }, 120_000);

  // Regression: a link that failed while starting (its peer corrupted the
  // ring at once) closed inside the ServerConnection constructor, before
  // ChannelServer.accept counted it, and stayed counted forever.
  it('keeps nothing of the connections it closed: the connection count returns to one, RSS grows < 2 MB', async () => {
    const seeds = randomSeeds();
    const server = await startTarget('shm-leak');
    onTestFinished(() => server.kill());
    const name = nameOf(server.url);
    const healthy = await connect(calc, server.url);
    onTestFinished(() => healthy.close());
    await runPeer(name, NAMED_ATTACKS);
    const before = await held(server);
    await runPeer(name, [...NAMED_ATTACKS, ...Array(ATTACK_REPEATS).fill('tail-past-capacity'), ...seeds.map((s) => `random:${s}`)]);
    const after = await held(server);
    console.log(`shm hostile peers: server before ${describeHeld(before)}; after ${describeHeld(after)}`);
    expect(await healthy.rpc.add({ a: 1, b: 2 })).toBe(3);
    expect(after.connections, 'connections the server still counts').toBe(1);
    // (Under AddressSanitizer freed memory waits in quarantine: RSS says nothing there.)
    if (!process.env.LD_PRELOAD?.includes('libasan')) {
      // The issue's bound is per attack; the total also stays far below
      // what keeping anything per connection would cost (a 64 KiB slab
      // each would be 17 MB here). Heap and descriptors are exact above;
      // RSS drifts by a few MB with the allocator (a churn of 16,500
      // honest connections in one process went up 19 MB and back to 12).
      const attacks = NAMED_ATTACKS.length + ATTACK_REPEATS + seeds.length;
      expect((after.rss - before.rss) / attacks, 'server RSS growth (kB) per attack').toBeLessThan(RSS_GROWTH_LIMIT_KB);
      expect(after.rss - before.rss, 'server RSS growth (kB) over all attacks').toBeLessThan(RSS_TOTAL_LIMIT_KB);
    }
  }, 120_000);

  // Regression: a record that fits the ring, announced but only partly
  // published (an honest writer never does that), left the reader waiting
  // with input pending, spinning a CPU; the ring now calls it corrupt.
  it('a peer that stalls inside a record that fits the ring costs the server no CPU', async () => {
    const server = await startServerProcess(`shm:///${uniqueName('shm-stall')}`);
    onTestFinished(() => server.kill());
    const [small, large] = await runPeer(nameOf(server.url), ['length-over-published-small', 'length-over-published-large']);
    console.log(`shm stalls: server CPU ${small!.stallCpuMs} ms (small record), ${large!.stallCpuMs} ms (large) in 500 ms`);
    expect(large!.stallCpuMs).toBeLessThan(150);
    expect(small!.closedWhileStalled || small!.stallCpuMs! < 150).toBe(true);
  });

  // Regression, between honest peers: with a ring smaller than 16 KiB, a
  // frame larger than the ring (written in pieces) was waited for whole.
  it('frames between the ring size and 16 KiB pass a 4 KiB ring', async () => {
    const server = await startServerProcess(`shm:///${uniqueName('shm-small')}?ringBytes=4096`);
    onTestFinished(() => server.kill());
    const client = await connect(calc, server.url);
    onTestFinished(() => client.close());
    for (const size of [100, 4000, 4100, 10_000, 16_000, 20_000]) {
      const echoed = client.rpc.echo(new Uint8Array(size).fill(1)) as Promise<Uint8Array>;
      const result = await Promise.race([echoed, sleep(3000).then(() => `no answer to a ${size}-byte echo in 3 s`)]);
      expect(result).toHaveLength(size);
    }
  });
});

describe.skipIf(process.platform !== 'linux')('shm:// client against a hostile server', () => {
  const RING = 4096;
  const offerWith =
    (text: string, makeSegment: () => number, extra = 2) =>
    (fd: number) => {
      const fds = [makeSegment()];
      for (let i = 0; i < extra; i++) fds.push(native.createEventFd());
      sendOffer(fd, text, fds);
    };
  /** A plain file of the right size: not a memfd, so not sealed (its size could change under the client). */
  const plainFile = () => {
    const path = join(tmpdir(), uniqueName('shm-plain'));
    const fd = openSync(path, 'w+');
    ftruncateSync(fd, segmentBytes(RING));
    unlinkSync(path);
    return fd;
  };
  /** A sealed segment of the right size, opened read-only: mapping it for writing fails. */
  const readOnlySegment = () => {
    const segment = native.createSegment(segmentBytes(RING));
    const readOnly = native.open(`/proc/self/fd/${segment}`, native.constants.O_RDONLY, 0);
    native.close(segment);
    return readOnly;
  };
  const refusals: Array<[string, (fd: number) => void, RegExp]> = [
    ['a segment that is not sealed', offerWith(`PWSHM/1 ${RING}\n`, plainFile), /not sealed/],
    ['a sealed segment one byte short', offerWith(`PWSHM/1 ${RING}\n`, () => native.createSegment(segmentBytes(RING) - 1)), /is \d+ bytes/],
    [
      'a sealed segment of another ring size',
      offerWith(`PWSHM/1 ${RING}\n`, () => native.createSegment(segmentBytes(2 * RING))),
      /is \d+ bytes/,
    ],
    ['a segment it may only read', offerWith(`PWSHM/1 ${RING}\n`, readOnlySegment), /EACCES/],
    ['an eventfd for a segment', offerWith(`PWSHM/1 ${RING}\n`, () => native.createEventFd()), /not sealed/],
    [
      'a ring size that is no power of two',
      offerWith(`PWSHM/1 ${RING - 1}\n`, () => native.createSegment(segmentBytes(RING - 1))),
      /bad offer/,
    ],
    ['a ring size above 1 GiB', offerWith('PWSHM/1 2147483648\n', () => native.createSegment(segmentBytes(RING))), /bad offer/],
    ['a malformed offer', offerWith('PWSHM/1 4096 extra\n', () => native.createSegment(segmentBytes(RING))), /bad offer/],
    [
      'two descriptors instead of three',
      offerWith(`PWSHM/1 ${RING}\n`, () => native.createSegment(segmentBytes(RING)), 1),
      /expected 3 descriptors/,
    ],
  ];
  for (const [what, answer, message] of refusals) {
    it(`refuses ${what} with PROTOCOL`, async () => {
      const name = uniqueName('shm-fake');
      const fake = fakeShmServer(name, answer);
      try {
        const error = await connect(calc, `shm:///${name}`).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ProcwireError);
        expect((error as ProcwireError).code).toBe(ErrorCode.PROTOCOL);
        expect((error as ProcwireError).message).toMatch(message);
      } finally {
        fake.close();
      }
    });
  }

  it('closes its link with PROTOCOL when the server corrupts the ring it reads', async () => {
    const name = uniqueName('shm-fake');
    let segment: SegmentFile | undefined;
    let clientBell = -1;
    const fake = fakeShmServer(name, (fd) => {
      const fds = [native.createSegment(segmentBytes(RING)), native.createEventFd(), native.createEventFd()] as const;
      segment = new SegmentFile(fds[0], RING);
      clientBell = fds[2];
      sendOffer(fd, `PWSHM/1 ${RING}\n`, [...fds], [fds[0], fds[2]]);
    });
    const url = `shm:///${name}`;
    const { endpoint, transport } = resolveEndpoint(url);
    const link: Link = await transport.connect(endpoint, {});
    const closed = new Promise<Error | undefined>((resolve) => link.start({ frames() {}, drain() {}, close: resolve }));
    try {
      segment!.setField(1, TAIL_AT, RING + 1);
      ringBell(clientBell);
      const error = await Promise.race([closed, sleep(CLOSE_BOUND_MS).then(() => new Error('the link stayed open'))]);
      expect(await codeOf(Promise.reject(error))).toBe(ErrorCode.PROTOCOL);
    } finally {
      link.destroy();
      fake.close();
      native.close(segment!.fd);
      native.close(clientBell);
    }
  });
});
