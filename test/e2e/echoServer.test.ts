/**
 * A plain echo server (another process that sends back every byte it
 * gets, over tcp: and unix:) must not pass for a procwire server: its
 * "answer" to the hello is the client's own hello. connect() rejects with
 * PROTOCOL and closes its link, instead of resolving and letting every
 * call time out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, ProcwireError } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { uniqueName } from '../helpers/processes.js';

const ECHO = `
const net = require('node:net');
const where = process.argv[1];
const server = net.createServer((socket) => { socket.on('error', () => {}); socket.pipe(socket); });
server.listen(where.startsWith('/') ? where : { host: '127.0.0.1', port: 0 }, () => {
  const address = server.address();
  process.stdout.write('ready ' + (typeof address === 'string' ? 'unix://' + address : 'tcp://127.0.0.1:' + address.port) + '\\n');
});
`;

const echoes: ChildProcess[] = [];
afterAll(() => {
  for (const echo of echoes) echo.kill('SIGKILL');
});

async function startEcho(where: string): Promise<string> {
  const child = spawn(process.execPath, ['-e', ECHO, where], { stdio: ['ignore', 'pipe', 'inherit'] });
  echoes.push(child);
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    const match = /^ready (\S+)$/m.exec(out);
    if (match) return match[1]!;
  }
  throw new Error(`the echo server did not start: ${out}`);
}

describe.skipIf(process.platform === 'win32')('an echo server is not a procwire server', () => {
  for (const [name, where] of [
    ['tcp', 'tcp'],
    ['unix', join(tmpdir(), `${uniqueName()}.sock`)],
  ] as const) {
    it(`${name}: connect rejects with PROTOCOL at the handshake`, { timeout: 20_000 }, async () => {
      const url = await startEcho(where);
      const started = Date.now();
      // A long handshake timeout: the rejection must come from the answer, not from waiting.
      const error = await connect(calc, url, { handshakeTimeoutMs: 15_000 }).then(
        async (client) => {
          await client.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProcwireError);
      expect((error as ProcwireError).code).toBe(ErrorCode.PROTOCOL);
      expect((error as ProcwireError).message).toMatch(/echo/);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  }
});
