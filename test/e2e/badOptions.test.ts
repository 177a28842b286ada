/**
 * Out-of-range options of serve(), connect() and spawn(), tried in a
 * process of their own (test/fixtures/optionProbe.ts) on every transport:
 * each is refused with INVALID_ARGUMENT before anything is opened. Nothing
 * crashes (an error thrown in a socket callback, libuv aborting on a
 * descriptor closed behind its back), no connection is left open (the
 * server's count returns to its own client), no named object is left, and
 * the process exits by itself once its work is done.
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, listNamedObjects } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { CONNECT_CASES, SERVE_CASES, SPAWN_CASES } from '../fixtures/optionProbe.js';
import { FIXTURE_EXEC_ARGV, fixturePath, startServerProcess, uniqueName, type ServerProcess } from '../helpers/processes.js';

const onLinux = process.platform === 'linux';
const dir = mkdtempSync(join(tmpdir(), 'pw-opts-'));
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.kill()));
  rmSync(dir, { recursive: true, force: true });
});

/** How long a probe may take for its cases, and then to exit once its stdin closed (the machine is busy). */
const PROBE_MS = 30_000;
const EXIT_MS = 10_000;

interface Probe {
  readonly child: ChildProcess;
  readonly lines: Array<{ case: string; code: string; message: string }>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the probe printed "done" (false if it ended or timed out first). */
  readonly done: Promise<boolean>;
}

function startProbe(mode: 'connect' | 'serve' | 'spawn', url: string): Probe {
  const child = spawnProcess(process.execPath, [...FIXTURE_EXEC_ARGV, fixturePath('optionProbe.ts'), mode, url], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Probe['lines'] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const done = new Promise<boolean>((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve(false), PROBE_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      let newline: number;
      while ((newline = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, newline);
        out = out.slice(newline + 1);
        if (line === 'done') {
          clearTimeout(timer);
          resolve(true);
        } else lines.push(JSON.parse(line));
      }
    });
    void exited.then(() => resolve(false));
  });
  return { child, lines, exited, done };
}

/** Closes the probe's stdin and waits for it to exit by itself; kills it (and reports so) if it does not. */
async function exitsByItself(probe: Probe): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'still running'> {
  probe.child.stdin!.end();
  const timeout = new Promise<'still running'>((resolve) => setTimeout(resolve, EXIT_MS, 'still running'));
  const outcome = await Promise.race([probe.exited, timeout]);
  if (outcome === 'still running') {
    probe.child.kill('SIGKILL');
    await probe.exited;
  }
  return outcome;
}

function expectAllRefused(probe: Probe, cases: string[]): void {
  const seen = Object.fromEntries(probe.lines.map((l) => [l.case, l.code]));
  expect(seen).toEqual(Object.fromEntries(cases.map((name) => [name, 'INVALID_ARGUMENT'])));
  // The refusal names the option.
  for (const line of probe.lines) {
    const option = /^(?:transport \w+, )?([\w.]+)/.exec(line.case)![1]!.replace(/^transport$/, 'limits');
    expect(line.message, line.case).toContain(option.split('.').pop()!);
  }
}

const listening = [
  ['unix (path)', () => `unix://${join(dir, `${uniqueName()}.sock`)}`, true],
  ['unix (abstract)', () => `unix:@${uniqueName()}`, onLinux],
  ['tcp', () => 'tcp://127.0.0.1:0', true],
  ['fifo', () => `fifo://${join(dir, uniqueName())}`, true],
  ['mq', () => `mq:///${uniqueName()}`, onLinux],
  ['shm', () => `shm:///${uniqueName()}?wait=sleep`, onLinux],
] as const;

describe.skipIf(process.platform === 'win32')('out-of-range options are refused before anything is opened', () => {
  for (const [name, makeUrl, available] of listening) {
    it.runIf(available)(
      `${name}: connect() refuses each, leaves no connection, and the client process exits by itself`,
      { timeout: 60_000 },
      async () => {
        const server = await startServerProcess(makeUrl());
        servers.push(server);
        const probe = startProbe('connect', server.url);
        const finished = await probe.done;
        // Before the probe exits: the server holds no connection of it (only ours, to ask).
        const own = await connect(calc, server.url);
        let connections: number;
        try {
          connections = (await own.rpc.stats()).connections;
        } finally {
          await own.close();
        }
        const exit = await exitsByItself(probe);
        expect(finished).toBe(true);
        expectAllRefused(probe, [...Object.keys(CONNECT_CASES), 'transport connect, limits 128 MiB']);
        expect(connections).toBe(1);
        expect(exit).toEqual({ code: 0, signal: null });
        await server.kill();
      },
    );

    it.runIf(available)(`${name}: serve() refuses each, opens nothing, and the process exits by itself`, { timeout: 60_000 }, async () => {
      const url = makeUrl();
      const probe = startProbe('serve', url);
      const finished = await probe.done;
      const exit = await exitsByItself(probe);
      expect(finished).toBe(true);
      expectAllRefused(probe, [...Object.keys(SERVE_CASES), 'transport listen, limits 128 MiB']);
      expect(exit).toEqual({ code: 0, signal: null });
      if (!url.startsWith('tcp:') && !url.startsWith('unix:@')) expect(await listNamedObjects(url)).toEqual([]);
    });
  }

  for (const via of ['socketpair:', 'pipe:'] as const) {
    it(`spawn via ${via}: refuses each before a worker starts, and the parent exits by itself`, { timeout: 60_000 }, async () => {
      const probe = startProbe('spawn', via);
      const finished = await probe.done;
      const exit = await exitsByItself(probe);
      expect(finished).toBe(true);
      expectAllRefused(probe, Object.keys(SPAWN_CASES));
      expect(exit).toEqual({ code: 0, signal: null });
    });
  }
});
