/**
 * FIFOs and queues get exactly the mode asked for, whatever the umask, and
 * another user is refused with EACCES. The umask is process-wide, so each
 * case runs in a child process of its own.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '@procwire/native';
import { NATIVE_FIXTURES, othersCanExecute, queueName, runFixture, tempPath } from './helpers.js';

const { constants } = native;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
function names(): { fifo: string; queue: string } {
  const fifo = tempPath('.fifo');
  const queue = queueName();
  cleanups.push(() => rmSync(fifo, { force: true }));
  cleanups.push(() => {
    try {
      native.mqUnlink(queue);
    } catch {}
  });
  return { fifo, queue };
}

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
// As root the test runs a child as nobody, who must be able to run this Node
// (not so for a Node kept under /root) and read the repository.
const nobodyCanRun = othersCanExecute(process.execPath) && othersCanExecute(NATIVE_FIXTURES);

describe.skipIf(process.platform !== 'linux')('modes', () => {
  for (const [umask, mode] of [
    ['000', '600'],
    ['077', '660'],
    ['022', '666'],
  ] as const) {
    it(`mode ${mode} under umask ${umask} is ${mode} for a FIFO and a queue`, async () => {
      const { fifo, queue } = names();
      const run = await runFixture('umaskCreate.ts', [umask, fifo, queue, mode]);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ fifo: mode, queue: mode });
    });
  }

  it.skipIf(asRoot && !nobodyCanRun)('another user gets EACCES opening a 0600 FIFO or queue', async () => {
    const { fifo, queue } = names();
    native.mkfifo(fifo, 0o600);
    native.mqClose(native.mqOpen(queue, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600, 1, 16));
    // As root, be nobody; otherwise our own 0000 objects refuse us just the same.
    if (!asRoot) {
      native.mqUnlink(queue);
      rmSync(fifo);
      native.mkfifo(fifo, 0);
      native.mqClose(native.mqOpen(queue, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0, 1, 16));
    }
    const run = await runFixture('openAs.ts', [fifo, queue], asRoot ? { uid: NOBODY, gid: NOBODY, env: { HOME: '/tmp' } } : {});
    expect(run.stderr).toBe('');
    const expected = (syscall: string, path: string) => ({
      code: 'EACCES',
      errno: -constants.EACCES,
      syscall,
      path,
      message: `EACCES: permission denied, ${syscall} '${path}'`,
    });
    expect(JSON.parse(run.stdout)).toEqual({ fifo: expected('open', fifo), queue: expected('mq_open', queue) });
  });
});
