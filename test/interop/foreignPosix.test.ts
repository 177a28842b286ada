/**
 * Programs written without procwire (Python with ctypes and Debian's
 * python3-msgpack) talk to procwire servers over mq: and fifo:.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, uniqueName, type ServerProcess } from '../helpers/processes.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const FOREIGN = fileURLToPath(new URL('../foreign/', import.meta.url));
const hasPythonMsgpack = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import msgpack'], { stdio: 'ignore' });
    return existsSync(PYTHON);
  } catch {
    return false;
  }
})();

/** Where an mq: server keeps its control socket (see packages/transports/src/mq/index.ts). */
const controlPath = (name: string) =>
  join(process.env.XDG_RUNTIME_DIR || tmpdir(), `procwire-${process.getuid!()}`, `mq-${name.slice(1)}.sock`);

const servers: ServerProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'pw-foreign-'));
afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  rmSync(dir, { recursive: true, force: true });
});

async function python(script: string, ...args: string[]): Promise<unknown[]> {
  const { stdout } = await run(PYTHON, [join(FOREIGN, script), ...args], { timeout: 20_000 });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

describe.skipIf(!hasPythonMsgpack)('foreign writers and readers (needs Debian python3-msgpack)', () => {
  it.skipIf(process.platform !== 'linux')(
    'a Python client over mq: gets validated replies; a malformed frame is rejected and counted',
    async () => {
      const server = await startServerProcess(`mq:///${uniqueName()}`);
      servers.push(server);
      const name = server.url.slice('mq://'.length);
      const replies = await python('mq_client.py', name, controlPath(name));
      expect(replies[0]).toEqual([1, 1, null, 42]);
      expect(replies[1]).toEqual([1, 2, expect.stringMatching(/^INVALID_INPUT: /), null]);
      const stats = (replies[2] as [number, number, null, { protocolErrors: number }])[3];
      expect(stats.protocolErrors).toBe(1);
    },
  );

  it('a Python client over fifo: gets validated replies after a malformed frame cost its first connection', async () => {
    const server = await startServerProcess(`fifo://${join(dir, 'calc')}`);
    servers.push(server);
    const [broken, good] = await python('fifo_client.py', join(dir, 'calc'));
    expect(broken).toEqual(['EOF']);
    expect(good).toEqual([
      [1, 1, null, 42],
      [1, 2, expect.stringMatching(/^INVALID_INPUT: /), null],
    ]);
  });
});
