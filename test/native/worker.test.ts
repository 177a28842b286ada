/**
 * A worker_thread that used the addon exits cleanly: the environment's
 * cleanup hook closes every watcher it left open. (Without it, Node aborts
 * the whole process when the worker's loop closes with handles still open,
 * and this test file would crash rather than fail.)
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '@procwire/native';
import { NATIVE_FIXTURES, queueName } from './helpers.js';

function startWorker(end: 'terminate' | 'exit' | 'return'): { worker: Worker; message: Promise<unknown>; exit: Promise<number> } {
  const worker = new Worker(join(NATIVE_FIXTURES, 'watcherWorker.mjs'), {
    workerData: { end, queue: queueName() },
  });
  const message = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, message, exit };
}

describe.skipIf(process.platform !== 'linux')('worker_threads', () => {
  for (const end of ['terminate', 'exit', 'return'] as const) {
    it(`a worker that leaves watchers open ends cleanly (${end})`, async () => {
      const { worker, message, exit } = startWorker(end);
      expect(await message).toEqual({ text: 'from the worker', received: 'queued' });
      if (end === 'terminate') await worker.terminate();
      expect(await exit).toBe(end === 'terminate' ? 1 : 0);
    });
  }

  it('the main thread keeps its own working addon state meanwhile', async () => {
    const runs = [startWorker('terminate'), startWorker('exit')];
    const [readFd, writeFd] = native.pipe();
    const watcher = new native.FdWatcher(readFd, () => {});
    watcher.watch(native.constants.POLL_READABLE);
    await Promise.all(runs.map((run) => run.message));
    await runs[0]!.worker.terminate();
    await Promise.all(runs.map((run) => run.exit));
    // Still ours, still registered: a second watcher on the descriptor is refused.
    expect(() => new native.FdWatcher(readFd, () => {})).toThrow(expect.objectContaining({ code: 'EEXIST' }) as Error);
    watcher.close();
    native.close(readFd);
    native.close(writeFd);
  });
});
