/** Bad arguments are refused before any system call, with Node's error classes and codes. */
import { describe, expect, it } from 'vitest';
import { native } from '@procwire/native';
import { thrown } from './helpers.js';

const noop = (): void => {};

// [what is called, error class, code, exact message]
const cases: Array<[string, () => unknown, ErrorConstructor, string, string]> = [
  [
    'mkfifo(number path)',
    () => native.mkfifo(1 as never, 0o600),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "path" argument must be of type string. Received type number',
  ],
  [
    'mkfifo(string mode)',
    () => native.mkfifo('/tmp/x', '0600' as never),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "mode" argument must be of type number. Received type string',
  ],
  [
    'mkfifo(mode > 0o7777)',
    () => native.mkfifo('/tmp/x', 0o10000),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "mode" is out of range. It must be an integer >= 0 and <= 4095. Received 4096',
  ],
  [
    'mkfifo(path with NUL)',
    () => native.mkfifo('/tmp/a\0b', 0o600),
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    "The argument 'path' must be a string without null bytes",
  ],
  [
    'open(missing flags)',
    () => (native.open as (path: string) => number)('/tmp/x'),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "flags" argument must be of type number. Received undefined',
  ],
  [
    'open(fractional flags)',
    () => native.open('/tmp/x', 1.5, 0),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "flags" is out of range. It must be an integer >= 0 and <= 2147483647. Received 1.5',
  ],
  [
    'close(-1)',
    () => native.close(-1),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "fd" is out of range. It must be an integer >= 0 and <= 2147483647. Received -1',
  ],
  [
    'close(NaN)',
    () => native.close(NaN),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "fd" is out of range. It must be an integer >= 0 and <= 2147483647. Received NaN',
  ],
  [
    'close(null)',
    () => native.close(null as never),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "fd" argument must be of type number. Received null',
  ],
  [
    'fstat(bigint)',
    () => native.fstat(1n as never),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "fd" argument must be of type number. Received type bigint',
  ],
  [
    'setParentDeathSignal(65)',
    () => native.setParentDeathSignal(65),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "signal" is out of range. It must be an integer >= 0 and <= 64. Received 65',
  ],
  [
    'setParentDeathSignal(string)',
    () => native.setParentDeathSignal('SIGTERM' as never),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "signal" argument must be of type number. Received type string',
  ],
  [
    'mqOpen(object name)',
    () => native.mqOpen({} as never, 0, 0o600, 0, 0),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "name" argument must be of type string. Received type object',
  ],
  [
    'mqOpen(negative maxMessages)',
    () => native.mqOpen('/x', 0, 0o600, -1, 0),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "maxMessages" is out of range. It must be an integer >= 0 and <= 2147483647. Received -1',
  ],
  [
    'mqOpen(Infinity messageSize)',
    () => native.mqOpen('/x', 0, 0o600, 1, Infinity),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "messageSize" is out of range. It must be an integer >= 0 and <= 2147483647. Received Infinity',
  ],
  [
    'mqSend(string data)',
    () => native.mqSend(0, 'text' as never, 0),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "data" argument must be an instance of Uint8Array or another ArrayBufferView. Received type string',
  ],
  [
    'mqSend(ArrayBuffer data)',
    () => native.mqSend(0, new ArrayBuffer(4) as never, 0),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "data" argument must be an instance of Uint8Array or another ArrayBufferView. Received type object',
  ],
  [
    'mqSend(negative priority)',
    () => native.mqSend(0, new Uint8Array(1), -1),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "priority" is out of range. It must be an integer >= 0 and <= 4294967295. Received -1',
  ],
  [
    'mqReceive(array into)',
    () => native.mqReceive(0, [] as never),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "into" argument must be an instance of Uint8Array or another ArrayBufferView. Received type object',
  ],
  [
    'mqGetAttr(string)',
    () => native.mqGetAttr('3' as never),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "mqd" argument must be of type number. Received type string',
  ],
  [
    'mqClose(2 ** 31)',
    () => native.mqClose(2 ** 31),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "mqd" is out of range. It must be an integer >= 0 and <= 2147483647. Received 2147483648',
  ],
  [
    'mqUnlink(undefined)',
    () => (native.mqUnlink as () => void)(),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "name" argument must be of type string. Received undefined',
  ],
  [
    'new FdWatcher(-1)',
    () => new native.FdWatcher(-1, noop),
    RangeError,
    'ERR_OUT_OF_RANGE',
    'The value of "fd" is out of range. It must be an integer >= 0 and <= 2147483647. Received -1',
  ],
  [
    'new FdWatcher(fd, not a function)',
    () => new native.FdWatcher(0, 'cb' as never),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "onReady" argument must be of type function. Received type string',
  ],
  [
    'new FdWatcher(symbol fd)',
    () => new native.FdWatcher(Symbol('fd') as never, noop),
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'The "fd" argument must be of type number. Received type symbol',
  ],
];

describe.skipIf(process.platform === 'win32')('argument checks', () => {
  for (const [what, call, errorClass, code, message] of cases) {
    it(`${what} throws ${errorClass.name} ${code}`, () => {
      const error = thrown(call);
      expect(error).toBeInstanceOf(errorClass);
      expect(error.code).toBe(code);
      expect(error.message).toBe(message);
      expect(error).not.toHaveProperty('syscall');
    });
  }

  it('watch() refuses events outside POLL_READABLE | POLL_WRITABLE | POLL_DISCONNECT', () => {
    const [readFd, writeFd] = native.pipe();
    const watcher = new native.FdWatcher(readFd, noop);
    expect(thrown(() => watcher.watch(8))).toMatchObject({
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: 'The value of "events" is out of range. It must be an integer >= 0 and <= 7. Received 8',
    });
    expect(thrown(() => watcher.watch('1' as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    watcher.close();
    native.close(readFd);
    native.close(writeFd);
  });

  it('FdWatcher must be called with new, and its methods on a real watcher', () => {
    const FdWatcher = native.FdWatcher as unknown as (fd: number, cb: () => void) => unknown;
    expect(() => FdWatcher(0, noop)).toThrow(TypeError);
    const { watch, close } = native.FdWatcher.prototype as { watch: (events: number) => void; close: () => void };
    expect(() => watch.call({}, 1)).toThrow(TypeError);
    expect(() => close.call(Object.create(native.FdWatcher.prototype as object))).toThrow(TypeError);
  });

  it.skipIf(process.platform !== 'linux')('a detached buffer is an empty message', () => {
    const name = `/pwq-detached-${process.pid}`;
    const { O_CREAT, O_EXCL, O_RDWR } = native.constants;
    const mqd = native.mqOpen(name, O_CREAT | O_EXCL | O_RDWR, 0o600, 1, 16);
    native.mqUnlink(name);
    const bytes = new Uint8Array(8);
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
    expect(native.mqSend(mqd, bytes, 0)).toBe(true);
    expect(thrown(() => native.mqReceive(mqd, bytes))).toMatchObject({ code: 'EMSGSIZE' });
    expect(native.mqReceive(mqd, new Uint8Array(16))).toBe(0);
    native.mqClose(mqd);
  });

  it('a DataView and any typed array are accepted as bytes', () => {
    const [readFd, writeFd] = native.pipe();
    // A pipe is not a queue: the bytes are accepted, then the kernel refuses the descriptor.
    for (const data of [new DataView(new ArrayBuffer(4)), new Uint16Array(2), Buffer.from('x')]) {
      expect(thrown(() => native.mqSend(writeFd, data, 0)).syscall).toBe('mq_send');
    }
    native.close(readFd);
    native.close(writeFd);
  });
});
