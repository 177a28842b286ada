// The life cycle of the objects that wait on threads of their own
// (MailslotReader, PipeListener), seen from outside, in child processes:
// open ones keep the process alive and closed ones do not; unref'd ones let
// it end; process.exit() with them open ends the process; a worker_thread
// terminated with them open (or ending with them unref'd) releases them;
// an exception in a callback is an uncaught exception.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { native, run, uniqueName } from './lib/support.mjs';

const fixture = fileURLToPath(new URL('./fixtures/lifecycle.mjs', import.meta.url));

/**
 * Starts the fixture in `mode`; resolves once it printed "ready", with a
 * function that resolves with its exit code and output once it has ended
 * (rejecting if that takes longer than `ms`).
 */
async function start(mode, name) {
  const child = spawn(process.execPath, [fixture, mode, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text) => (output += text));
  const exited = once(child, 'exit');
  const startedAt = Date.now();
  while (!/^ready$/m.test(output)) {
    if (child.exitCode !== null || Date.now() - startedAt > 30_000) {
      throw new Error(`the ${mode} child did not get ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const ended = async (ms) => {
    const timer = setTimeout(() => child.kill(), ms);
    const [code] = await exited;
    clearTimeout(timer);
    return { code, output: output.trim().split(/\r?\n/) };
  };
  return { child, ended };
}

function send(name, text) {
  const writer = new native.MailslotWriter(name);
  writer.write(Buffer.from(text));
  writer.close();
}

await run(
  import.meta.url,
  [
    [
      'open objects keep the process alive; once closed (from a callback) it ends by itself',
      async () => {
        const name = uniqueName('life');
        const { child, ended } = await start('ref', name);
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(child.exitCode, null, 'the process ended while its reader and listener were open');
        send(name, 'close');
        const { code, output } = await ended(10_000);
        assert.equal(code, 0, output.join('\n'));
        assert.deepEqual(output, ['ready', 'got: close', 'closed', 'end']);
        return output.join(' | ');
      },
    ],
    [
      "unref'd objects never closed: the process ends by itself",
      async () => {
        const { ended } = await start('unref', uniqueName('life'));
        const { code, output } = await ended(10_000);
        assert.equal(code, 0, output.join('\n'));
        assert.deepEqual(output, ['ready', 'end']);
        return output.join(' | ');
      },
    ],
    [
      'process.exit() with both open ends the process',
      async () => {
        const name = uniqueName('life');
        const { ended } = await start('exit', name);
        send(name, 'bye');
        const { code, output } = await ended(10_000);
        assert.equal(code, 0, output.join('\n'));
        assert.deepEqual(output, ['ready', 'got: bye', 'end']);
        return output.join(' | ');
      },
    ],
    [
      "an exception thrown in onMessage reaches 'uncaughtException'",
      async () => {
        const name = uniqueName('life');
        const { ended } = await start('throw', name);
        send(name, 'boom');
        const { code, output } = await ended(10_000);
        assert.equal(code, 0, output.join('\n'));
        assert.deepEqual(output, ['ready', 'got: boom', 'uncaughtException: thrown for boom', 'end']);
        return output.join(' | ');
      },
    ],
    [
      "a worker_thread terminated with both open, and one ending with both unref'd, release them",
      async () => {
        const name = uniqueName('life');
        const { ended } = await start('worker', name);
        send(name, 'hello worker');
        const { code, output } = await ended(20_000);
        assert.equal(code, 0, output.join('\n'));
        assert.deepEqual(output, [
          'worker: ready',
          'ready',
          'worker got: hello worker',
          'worker terminated (1) with its reader and listener open',
          "second worker ended by itself (0) with both unref'd and open",
          'end',
        ]);
        return output.join(' | ');
      },
    ],
  ],
  120_000,
);
