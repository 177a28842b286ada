/**
 * `exposeHandlerErrors: false`: a handler's own error message stays in the
 * server (its onHandlerError hook sees it), the client gets HANDLER_ERROR
 * with a generic message; ProcwireErrors thrown on purpose keep their code
 * and message. Across real processes, over every listening transport.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, removeStaleObjects, type Client } from 'procwire';
import { GENERIC_HANDLER_ERROR_MESSAGE } from 'procwire/link';
import { calc } from '../fixtures/calc.js';
import { rejection } from '../helpers/errors.js';
import { startServerProcess, tempSocketPath, uniqueName, type ServerProcess } from '../helpers/processes.js';
import { removeQueue } from '../helpers/queues.js';

const linux = process.platform === 'linux';
const posix = process.platform !== 'win32';
const endpoints: Array<[string, boolean, () => string]> = [
  ['unix', posix, () => `unix://${tempSocketPath()}`],
  ['tcp', true, () => 'tcp://127.0.0.1:0'],
  ['fifo', posix, () => `fifo://${join(tmpdir(), uniqueName())}`],
  ['mq', linux, () => `mq:///${uniqueName()}`],
  ['shm', linux, () => `shm:///${uniqueName()}`],
];

for (const [name, available, makeUrl] of endpoints) {
  describe.skipIf(!available)(`handler errors kept in the server: ${name}`, () => {
    let server: ServerProcess;
    let client: Client<typeof calc>;
    let output = '';
    beforeAll(async () => {
      server = await startServerProcess(makeUrl(), 'calcServer.ts', { PROCWIRE_HIDE_HANDLER_ERRORS: '1' });
      server.child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      client = await connect(calc, server.url);
    });
    afterAll(async () => {
      await client?.close();
      await server?.kill();
      const queue = server?.url.match(/^mq:\/\/(\/.*)$/)?.[1];
      if (queue) removeQueue(queue);
      if (server?.url.startsWith('shm:')) await removeStaleObjects(server.url);
    });

    it('sends a generic HANDLER_ERROR and hands the error to onHandlerError; a ProcwireError passes as it is', async () => {
      const hidden = await rejection(client.rpc.fail({ message: 'password=hunter2' }));
      expect([hidden.code, hidden.message]).toEqual([ErrorCode.HANDLER_ERROR, GENERIC_HANDLER_ERROR_MESSAGE]);
      const streamed = await rejection(
        (async () => {
          for await (const _ of client.stream.drip({ items: 1, gapMs: -7 }));
        })(),
      );
      expect([streamed.code, streamed.message]).toEqual([ErrorCode.HANDLER_ERROR, GENERIC_HANDLER_ERROR_MESSAGE]);
      const own = await rejection(client.rpc.fail({ code: 'OUT_OF_STOCK', message: 'none left' }));
      expect([own.code, own.message]).toEqual(['OUT_OF_STOCK', 'none left']);
      const deadline = Date.now() + 10_000;
      while (!output.includes('none left') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(output).toContain('handler-error calc.fail password=hunter2\n');
      expect(output).toContain('handler-error calc.drip a gap of -7 ms\n');
      expect(output).toContain('handler-error calc.fail none left\n');
    });
  });
}
