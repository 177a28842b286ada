// MailslotReader and MailslotWriter: messages keep their boundaries and
// their order, sizes up to the reader's maximum arrive intact, many writers
// (in this process and another) interleave whole messages, and closing is
// prompt and final. Also measures what the transport has to know: the
// largest message that works and what a writer sees once the reader is gone.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { native, run, turn, uniqueName, until, wine } from './lib/support.mjs';

const { MailslotReader, MailslotWriter } = native;
const childWriter = fileURLToPath(new URL('./fixtures/mailslotWriter.mjs', import.meta.url));

/** A reader that collects what it receives. */
function collector(maxMessageSize, name = uniqueName('ms')) {
  const received = [];
  const reader = new MailslotReader(name, maxMessageSize, (message) => received.push(message));
  return { name, reader, received };
}

function tryWrite(writer, data) {
  try {
    writer.write(data);
    return null;
  } catch (error) {
    return error;
  }
}

await run(import.meta.url, [
  [
    'a small message and an empty one arrive as written',
    async () => {
      const { name, reader, received } = collector(64);
      const writer = new MailslotWriter(name);
      assert.equal(writer.path, `\\\\.\\mailslot\\${name}`);
      assert.equal(reader.path, writer.path);
      writer.write(Buffer.from('hello'));
      writer.write(new Uint8Array(0));
      const world = Buffer.from('world');
      writer.write(new DataView(world.buffer, world.byteOffset, world.length));
      await until(() => received.length === 3, 5000, '3 messages');
      assert.deepEqual(received.map(String), ['hello', '', 'world']);
      assert.ok(Buffer.isBuffer(received[0]));
      writer.close();
      reader.close();
    },
  ],
  [
    'a message of exactly maxMessageSize (200,000 bytes) arrives intact',
    async () => {
      const { name, reader, received } = collector(200_000);
      const writer = new MailslotWriter(name);
      const payload = randomBytes(200_000);
      writer.write(payload);
      await until(() => received.length === 1, 5000, 'the message');
      assert.ok(received[0].equals(payload));
      writer.close();
      reader.close();
    },
  ],
  [
    'a message above maxMessageSize is never delivered',
    async () => {
      const { name, reader, received } = collector(1000);
      const writer = new MailslotWriter(name);
      const error = tryWrite(writer, randomBytes(1001));
      writer.write(Buffer.from('after'));
      await until(() => received.length >= 1, 5000, 'the next message');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(received.map(String), ['after']);
      writer.close();
      reader.close();
      return error
        ? `the writer was refused: ${error.code} (winError ${error.winError})`
        : 'the write succeeded and the reader dropped it (Wine does not enforce the maximum)';
    },
  ],
  [
    'measure: the largest message a writer can send',
    async () => {
      const { name, reader, received } = collector(8 * 1024 * 1024);
      const writer = new MailslotWriter(name);
      const attempt = async (size) => {
        const error = tryWrite(writer, Buffer.alloc(size, 7));
        if (error) return error;
        const count = received.length;
        await until(() => received.length > count, 10_000, `the ${size}-byte message`);
        assert.equal(received.at(-1).length, size);
        return null;
      };
      let low = 64 * 1024;
      assert.equal(await attempt(low), null, '64 KiB must work');
      let high = 8 * 1024 * 1024;
      const refusal = await attempt(high);
      if (!refusal) return `every size up to ${high} bytes works`;
      while (low + 1 < high) {
        const middle = Math.floor((low + high) / 2);
        if (await attempt(middle)) high = middle;
        else low = middle;
      }
      const error = await attempt(high);
      writer.close();
      reader.close();
      if (wine) assert.equal(error.code, 'ERROR_GEN_FAILURE');
      return `${low} bytes work; ${high} fail with ${error.code} (winError ${error.winError})`;
    },
  ],
  [
    '1,000 messages written in one burst arrive in order',
    async () => {
      const { name, reader, received } = collector(64);
      const writer = new MailslotWriter(name);
      for (let i = 0; i < 1000; i++) writer.write(Buffer.from(`m${i}`));
      await until(() => received.length === 1000, 20_000, '1,000 messages');
      received.forEach((message, i) => assert.equal(String(message), `m${i}`));
      writer.close();
      reader.close();
    },
  ],
  [
    '10,000 messages of 100 bytes, written in batches of 200, arrive in order',
    async () => {
      const { name, reader, received } = collector(100);
      const writer = new MailslotWriter(name);
      const started = Date.now();
      for (let i = 0; i < 10_000; i++) {
        writer.write(Buffer.from(`${i}`.padEnd(100, '.')));
        if (i % 200 === 199) await turn();
      }
      await until(() => received.length === 10_000, 30_000, '10,000 messages');
      const ms = Date.now() - started;
      received.forEach((message, i) => assert.equal(String(message).replace(/\.+$/, ''), `${i}`));
      writer.close();
      reader.close();
      return `${Math.round(10_000 / (ms / 1000))} messages/s`;
    },
  ],
  [
    'two writers in this process interleave whole messages, each in its own order',
    async () => {
      const { name, reader, received } = collector(64);
      const a = new MailslotWriter(name);
      const b = new MailslotWriter(name);
      for (let i = 0; i < 500; i++) {
        a.write(Buffer.from(`a${i}`));
        b.write(Buffer.from(`b${i}`));
      }
      await until(() => received.length === 1000, 20_000, '1,000 messages');
      const texts = received.map(String);
      assert.deepEqual(
        texts.filter((t) => t.startsWith('a')),
        Array.from({ length: 500 }, (_, i) => `a${i}`),
      );
      assert.deepEqual(
        texts.filter((t) => t.startsWith('b')),
        Array.from({ length: 500 }, (_, i) => `b${i}`),
      );
      a.close();
      b.close();
      reader.close();
    },
  ],
  [
    'a writer in another process (same user) reaches the owner-only mailslot',
    async () => {
      const { name, reader, received } = collector(64);
      execFileSync(process.execPath, [childWriter, name, '200'], { stdio: 'inherit', timeout: 60_000 });
      await until(() => received.length === 200, 10_000, '200 messages');
      received.forEach((message, i) => assert.equal(String(message), `child:${i}`));
      reader.close();
    },
  ],
  [
    'back-pressure: a reader whose JavaScript is busy holds 1,024 messages, the rest wait in the mailslot, none is lost',
    async () => {
      const { name, reader, received } = collector(64);
      const child = spawn(process.execPath, [childWriter, name, '3000', 'timed'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (text) => (output += text));
      await until(() => output.includes('ready'), 30_000, 'the writer');
      // This thread sleeps: nothing is delivered while the child writes.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
      await until(() => received.length === 3000, 30_000, '3,000 messages');
      received.forEach((message, i) => assert.equal(String(message), `child:${i}`));
      await until(() => child.exitCode !== null, 10_000, 'the writer to end');
      const [, ms, index] = /stall (\d+) (\d+)/.exec(output).map(Number);
      reader.close();
      if (wine) {
        // 1,024 in the addon + about 278 one-line messages in Wine's mailslot.
        assert.ok(index >= 1024 && index <= 1400, `the writer stalled at message ${index}`);
        assert.ok(ms > 500, `the longest write took ${ms} ms`);
      }
      return `the writer's longest write: ${ms} ms, at message ${index}`;
    },
  ],
  [
    'a second reader on a name in use fails with EEXIST; the first keeps working',
    async () => {
      const { name, reader, received } = collector(64);
      let error;
      try {
        new MailslotReader(name, 64, () => {});
      } catch (caught) {
        error = caught;
      }
      assert.ok(error, 'the second reader was created');
      assert.equal(error.code, 'EEXIST');
      assert.equal(error.errno, -4075);
      assert.equal(error.winError, native.constants.ERROR_ALREADY_EXISTS);
      assert.equal(error.syscall, 'CreateMailslotW');
      assert.equal(error.path, reader.path);
      const writer = new MailslotWriter(name);
      writer.write(Buffer.from('still here'));
      await until(() => received.length === 1, 5000, 'the message');
      writer.close();
      reader.close();
      return error.message;
    },
  ],
  [
    'close() of an idle reader is prompt, idempotent and final; the name is free again',
    async () => {
      const { name, reader, received } = collector(64);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = performance.now();
      reader.close();
      const ms = performance.now() - started;
      reader.close();
      assert.throws(() => new MailslotWriter(name), { code: 'ENOENT' });
      const again = new MailslotReader(name, 64, () => {});
      again.close();
      assert.equal(received.length, 0);
      assert.ok(ms < 500, `close() took ${ms} ms`);
      return `close() took ${ms.toFixed(1)} ms`;
    },
  ],
  [
    'close() from inside the callback: no message is delivered after it',
    async () => {
      const name = uniqueName('ms');
      const received = [];
      const reader = new MailslotReader(name, 64, (message) => {
        received.push(String(message));
        reader.close();
        reader.close();
      });
      const writer = new MailslotWriter(name);
      for (let i = 0; i < 50; i++) writer.write(Buffer.from(`m${i}`));
      await until(() => received.length >= 1, 5000, 'the first message');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(received, ['m0']);
      writer.close();
    },
  ],
  [
    'measure: a writer whose reader has gone',
    async () => {
      const { name, reader } = collector(64);
      const writer = new MailslotWriter(name);
      reader.close();
      const error = tryWrite(writer, Buffer.from('into the void'));
      let reopen;
      try {
        new MailslotWriter(name).close();
        reopen = 'a new writer opens it';
      } catch (caught) {
        reopen = `a new writer fails with ${caught.code} (winError ${caught.winError})`;
      }
      let recreate;
      try {
        new MailslotReader(name, 64, () => {}).close();
        recreate = 'a new reader creates it';
      } catch (caught) {
        recreate = `a new reader fails with ${caught.code} (winError ${caught.winError})`;
      }
      writer.close();
      const after = new MailslotReader(name, 64, () => {});
      after.close();
      if (wine) assert.equal(error, null, 'Wine: the write succeeds');
      const write = error ? `the write fails with ${error.code} (winError ${error.winError})` : 'the write succeeds';
      return `${write}; while that writer is open ${reopen} and ${recreate}; once it closes the name is free`;
    },
  ],
]);
