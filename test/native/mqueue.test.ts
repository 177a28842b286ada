/** POSIX message queues through @procwire/native (Linux; /dev/mqueue need not be mounted). */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { native, type NativeSystemError } from '@procwire/native';
import { isCloseOnExec, nextReady, queueName, thrown } from './helpers.js';

const { constants } = native;
const CREATE = constants.O_CREAT | constants.O_EXCL | constants.O_RDWR;
const opened: number[] = [];
const names: string[] = [];
afterEach(() => {
  for (const mqd of opened.splice(0)) native.mqClose(mqd);
  // Queues count against RLIMIT_MSGQUEUE (800 KiB per user here): remove them at once.
  for (const name of names.splice(0)) native.mqUnlink(name);
});

/** A fresh queue of `maxMessages` x `messageSize`, removed after the test. */
function createQueue(maxMessages = 4, messageSize = 64): { name: string; mqd: number } {
  const name = queueName();
  const mqd = native.mqOpen(name, CREATE, 0o600, maxMessages, messageSize);
  names.push(name);
  opened.push(mqd);
  return { name, mqd };
}
function open(name: string, flags: number): number {
  const mqd = native.mqOpen(name, flags, 0, 0, 0);
  opened.push(mqd);
  return mqd;
}

describe.skipIf(process.platform !== 'linux')('message queues', () => {
  it('mqOpen creates a non-blocking, close-on-exec queue with the attributes asked for', () => {
    const { mqd } = createQueue(4, 64);
    expect(native.mqGetAttr(mqd)).toEqual({ maxMessages: 4, messageSize: 64, currentMessages: 0, flags: constants.O_NONBLOCK });
    expect(isCloseOnExec(mqd)).toBe(true);
    expect(native.fstat(mqd).mode & 0o777).toBe(0o600);
  });

  it('with 0 and 0 the system defaults apply (the files constants.MQ_DEFAULT_*_PATH name)', async (context) => {
    // A default queue (10 x 8 KiB here) takes a tenth of the user's
    // RLIMIT_MSGQUEUE, which every process of this user shares, and a queue
    // nobody unlinked holds its share until reboot. mq_open says EMFILE when
    // it is used up: wait a little for other tests to free some, then skip.
    let mqd = -1;
    for (const deadline = Date.now() + 5_000; mqd === -1;) {
      try {
        mqd = createQueue(0, 0).mqd;
      } catch (error) {
        if ((error as NativeSystemError).code !== 'EMFILE') throw error;
        if (Date.now() > deadline) context.skip('RLIMIT_MSGQUEUE is used up by other queues of this user');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const attributes = native.mqGetAttr(mqd);
    for (const [path, value] of [
      [constants.MQ_DEFAULT_MAX_MESSAGES_PATH, attributes.maxMessages],
      [constants.MQ_DEFAULT_MESSAGE_SIZE_PATH, attributes.messageSize],
    ] as const) {
      if (existsSync(path)) expect(value).toBe(Number(readFileSync(path, 'utf8')));
    }
  });

  it('send and receive whole messages, higher priority first', () => {
    const { mqd } = createQueue();
    expect(native.mqSend(mqd, Buffer.from('low'), 1)).toBe(true);
    expect(native.mqSend(mqd, new TextEncoder().encode('high'), 9)).toBe(true);
    expect(native.mqSend(mqd, new Uint8Array(0), 1)).toBe(true);
    expect(native.mqGetAttr(mqd).currentMessages).toBe(3);
    const into = Buffer.alloc(64);
    const received: string[] = [];
    for (let n = native.mqReceive(mqd, into); n !== -1; n = native.mqReceive(mqd, into)) {
      received.push(into.subarray(0, n).toString());
    }
    expect(received).toEqual(['high', 'low', '']);
  });

  it('a full queue makes mqSend return false, an empty one makes mqReceive return -1', () => {
    const { mqd } = createQueue(2, 16);
    const into = new Uint8Array(16);
    expect(native.mqReceive(mqd, into)).toBe(-1);
    expect(native.mqSend(mqd, new Uint8Array([1]), 0)).toBe(true);
    expect(native.mqSend(mqd, new Uint8Array([2]), 0)).toBe(true);
    expect(native.mqSend(mqd, new Uint8Array([3]), 0)).toBe(false);
    expect(native.mqReceive(mqd, into)).toBe(1);
    expect(into[0]).toBe(1);
  });

  it('a message bigger than the message size, or a buffer smaller than it, is EMSGSIZE', () => {
    const { mqd } = createQueue(2, 16);
    expect(thrown(() => native.mqSend(mqd, new Uint8Array(17), 0))).toMatchObject({
      code: 'EMSGSIZE',
      errno: -constants.EMSGSIZE,
      syscall: 'mq_send',
      message: 'EMSGSIZE: message too long, mq_send',
    });
    native.mqSend(mqd, new Uint8Array(3), 0);
    expect(thrown(() => native.mqReceive(mqd, new Uint8Array(15)))).toMatchObject({ code: 'EMSGSIZE', syscall: 'mq_receive' });
    expect(native.mqReceive(mqd, new Uint8Array(16))).toBe(3);
  });

  it('a priority at or above MQ_PRIO_MAX is EINVAL', () => {
    const { mqd } = createQueue();
    expect(thrown(() => native.mqSend(mqd, new Uint8Array(1), 32768))).toMatchObject({ code: 'EINVAL', syscall: 'mq_send' });
  });

  it('O_EXCL on an existing queue is EEXIST; without O_EXCL the queue is opened as it is', () => {
    const { name, mqd } = createQueue(3, 32);
    expect(thrown(() => native.mqOpen(name, CREATE, 0o600, 3, 32))).toMatchObject({
      code: 'EEXIST',
      errno: -constants.EEXIST,
      syscall: 'mq_open',
      path: name,
      message: `EEXIST: file already exists, mq_open '${name}'`,
    });
    const again = native.mqOpen(name, constants.O_CREAT | constants.O_RDWR, 0o666, 8, 8);
    opened.push(again);
    expect(native.mqGetAttr(again)).toMatchObject({ maxMessages: 3, messageSize: 32 });
    expect(native.fstat(again).mode & 0o777).toBe(0o600);
    native.mqSend(again, Buffer.from('shared'), 0);
    expect(native.mqGetAttr(mqd).currentMessages).toBe(1);
  });

  it('a missing queue is ENOENT for mqOpen and mqUnlink', () => {
    const name = queueName();
    expect(thrown(() => native.mqOpen(name, constants.O_RDWR, 0, 0, 0))).toMatchObject({
      code: 'ENOENT',
      errno: -constants.ENOENT,
      syscall: 'mq_open',
      path: name,
      message: `ENOENT: no such file or directory, mq_open '${name}'`,
    });
    expect(thrown(() => native.mqUnlink(name))).toMatchObject({ code: 'ENOENT', syscall: 'mq_unlink', path: name });
  });

  it('attributes above the system ceilings, and a name without its leading slash, are EINVAL', () => {
    const name = queueName();
    expect(thrown(() => native.mqOpen(name, CREATE, 0o600, 1, 2 ** 30))).toMatchObject({ code: 'EINVAL', syscall: 'mq_open' });
    expect(thrown(() => native.mqOpen(name.slice(1), CREATE, 0o600, 1, 16))).toMatchObject({ code: 'EINVAL', syscall: 'mq_open' });
  });

  it('an unlinked queue lives on for its open descriptors; mqClose twice is EBADF', () => {
    const { name, mqd } = createQueue();
    native.mqUnlink(name);
    names.splice(names.indexOf(name), 1);
    expect(native.mqSend(mqd, Buffer.from('still here'), 0)).toBe(true);
    expect(native.mqReceive(mqd, Buffer.alloc(64))).toBe(10);
    native.mqClose(mqd);
    opened.splice(opened.indexOf(mqd), 1);
    expect(thrown(() => native.mqClose(mqd))).toMatchObject({ code: 'EBADF', syscall: 'mq_close' });
    expect(thrown(() => native.mqGetAttr(mqd))).toMatchObject({ code: 'EBADF', syscall: 'mq_getattr' });
  });

  it('FdWatcher reports a queue readable when a message arrives and writable when room frees up', async () => {
    const { name, mqd } = createQueue(1, 16);
    const sender = open(name, constants.O_WRONLY);
    const readable = nextReady(mqd, constants.POLL_READABLE);
    expect(native.mqSend(sender, Buffer.from('ping'), 0)).toBe(true);
    expect(await readable).toEqual({ events: constants.POLL_READABLE, errno: 0 });

    expect(native.mqSend(sender, Buffer.from('full'), 0)).toBe(false);
    const writable = nextReady(sender, constants.POLL_WRITABLE);
    const into = Buffer.alloc(16);
    expect(into.subarray(0, native.mqReceive(mqd, into)).toString()).toBe('ping');
    expect(await writable).toEqual({ events: constants.POLL_WRITABLE, errno: 0 });
    expect(native.mqSend(sender, Buffer.from('again'), 0)).toBe(true);
  });

  it('mqClose closes the watcher on the descriptor first', () => {
    const name = queueName();
    const mqd = native.mqOpen(name, CREATE, 0o600, 1, 16);
    names.push(name);
    const watcher = new native.FdWatcher(mqd, () => {});
    watcher.watch(constants.POLL_READABLE);
    native.mqClose(mqd);
    expect(thrown(() => watcher.watch(constants.POLL_READABLE))).toMatchObject({ code: 'ERR_INVALID_STATE' });
    watcher.close();
  });
});
