import { mkdirSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ProcwireError } from '@procwire/core';

/**
 * A directory only this user can enter, for procwire's own helper names
 * (the control sockets of message-queue servers): $XDG_RUNTIME_DIR when set,
 * else the temp directory, plus `procwire-<uid>`, created 0700. One that
 * exists but is not ours, or is open to others, is refused.
 */
export function privateRuntimeDir(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = join(process.env.XDG_RUNTIME_DIR || tmpdir(), `procwire-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  if (!info.isDirectory() || info.uid !== uid || (info.mode & 0o077) !== 0) {
    throw new ProcwireError(ErrorCode.LISTEN_FAILED, `${dir} must be a directory of uid ${uid} with mode 0700; not using it`);
  }
  return dir;
}
