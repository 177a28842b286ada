// The Windows addon's errors have Node's shape: argument errors with Node's
// codes before any Win32 call, and Win32 failures as system errors whose
// `errno` is the number Node itself uses for that code on Windows.
import assert from 'node:assert/strict';
import util from 'node:util';
import { native, run, uniqueName } from './lib/support.mjs';

/** The codes src/win/errors.cc maps to, with the libuv numbers it gives them. */
const MAPPED = {
  ENOENT: -4058,
  EMFILE: -4066,
  EACCES: -4092,
  EBADF: -4083,
  ENOMEM: -4057,
  EOF: -4095,
  ENOTSUP: -4049,
  EEXIST: -4075,
  EINVAL: -4071,
  EPIPE: -4047,
  ENOSYS: -4054,
  ETIMEDOUT: -4039,
  EMSGSIZE: -4065,
  ENAMETOOLONG: -4064,
  EBUSY: -4082,
  ECANCELED: -4081,
  EADDRINUSE: -4091,
  UNKNOWN: -4094,
};

function throwsWith(fn, name, code) {
  let caught;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught, 'expected a throw');
  assert.equal(caught.name, name, caught.message);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

await run(import.meta.url, [
  [
    "every errno the addon reports is this Node's number for its code",
    () => {
      const map = util.getSystemErrorMap();
      for (const [code, errno] of Object.entries(MAPPED)) {
        assert.equal(util.getSystemErrorName(errno), code, `${code} ${errno}`);
      }
      return `${Object.keys(MAPPED).length} codes, e.g. EEXIST = ${MAPPED.EEXIST} "${map.get(MAPPED.EEXIST)[1]}"`;
    },
  ],
  [
    'a Win32 failure is a system error: ENOENT for a writer to a mailslot nobody created',
    () => {
      const name = uniqueName('missing');
      const error = throwsWith(() => new native.MailslotWriter(name), 'Error', 'ENOENT');
      assert.equal(error.errno, MAPPED.ENOENT);
      assert.equal(error.winError, native.constants.ERROR_FILE_NOT_FOUND);
      assert.equal(error.syscall, 'CreateFileW');
      assert.equal(error.path, `\\\\.\\mailslot\\${name}`);
      assert.equal(error.message, `ENOENT: no such file or directory, CreateFileW '${error.path}' (Windows error 2)`);
      return error.message;
    },
  ],
  [
    'bad arguments throw before any Win32 call, with Node codes',
    () => {
      const { MailslotReader, MailslotWriter, PipeListener } = native;
      const details = [
        throwsWith(() => new MailslotReader(42, 10, () => {}), 'TypeError', 'ERR_INVALID_ARG_TYPE'),
        throwsWith(() => new MailslotReader('', 10, () => {}), 'TypeError', 'ERR_INVALID_ARG_VALUE'),
        throwsWith(() => new MailslotReader('a\0b', 10, () => {}), 'TypeError', 'ERR_INVALID_ARG_VALUE'),
        throwsWith(() => new MailslotReader('x'.repeat(241), 10, () => {}), 'TypeError', 'ERR_INVALID_ARG_VALUE'),
        throwsWith(() => new MailslotReader('a', 0, () => {}), 'RangeError', 'ERR_OUT_OF_RANGE'),
        throwsWith(() => new MailslotReader('a', 1.5, () => {}), 'RangeError', 'ERR_OUT_OF_RANGE'),
        throwsWith(() => new MailslotReader('a', 10, 'f'), 'TypeError', 'ERR_INVALID_ARG_TYPE'),
        throwsWith(() => new MailslotReader('a', 10, () => {}, 1), 'TypeError', 'ERR_INVALID_ARG_TYPE'),
        throwsWith(() => new MailslotWriter(null), 'TypeError', 'ERR_INVALID_ARG_TYPE'),
        throwsWith(() => new PipeListener('a\\b', () => {}), 'TypeError', 'ERR_INVALID_ARG_VALUE'),
        throwsWith(() => new PipeListener('a', null), 'TypeError', 'ERR_INVALID_ARG_TYPE'),
      ];
      return `${details.length} cases, e.g. "${details[1].message}", "${details[4].message}"`;
    },
  ],
  [
    'a closed writer throws ERR_INVALID_STATE; write() checks its argument',
    () => {
      const name = uniqueName('closed');
      const reader = new native.MailslotReader(name, 16, () => {});
      try {
        const writer = new native.MailslotWriter(name);
        throwsWith(() => writer.write('text'), 'TypeError', 'ERR_INVALID_ARG_TYPE');
        throwsWith(() => writer.write(new Uint16Array(2)), 'TypeError', 'ERR_INVALID_ARG_TYPE');
        writer.close();
        writer.close();
        throwsWith(() => writer.write(Buffer.from('x')), 'Error', 'ERR_INVALID_STATE');
      } finally {
        reader.close();
      }
      throwsWith(() => reader.securityDescriptor(), 'Error', 'ERR_INVALID_STATE');
    },
  ],
]);
