import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { ErrorCode, ProcwireError } from '@procwire/core';
import type { AccessMode } from '../transport.js';

/**
 * Removes `path` only if it is still the file this process created (same
 * inode): a name someone else has since put there is never touched.
 */
export function unlinkIfOurs(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Runs `remove` once: when the returned function is called (a normal close),
 * or when the process ends through process.exit(), which skips every close().
 * Named OS objects must not outlive a server that exits that way.
 */
export function removeOnExit(remove: () => void): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    process.off('exit', once);
    remove();
  };
  process.once('exit', once);
  return once;
}

/** The `access` option, checked: left out means 'owner'. */
export function checkAccess(access: unknown): AccessMode {
  if (access === undefined) return 'owner';
  if (access === 'owner' || access === 'group') return access;
  let shown: string;
  try {
    shown = typeof access === 'string' ? JSON.stringify(access) : String(access);
  } catch {
    shown = typeof access;
  }
  throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `access must be 'owner' (0600, the default) or 'group' (0660); got ${shown}`);
}

/** The exact mode of a named object a server (or, for its own connection, a client) creates. */
export function objectMode(access: AccessMode): number {
  return access === 'group' ? 0o660 : 0o600;
}

/** The exact mode of a directory that holds such objects. */
export function directoryMode(access: AccessMode): number {
  return access === 'group' ? 0o750 : 0o700;
}

/** User names by uid, read once: messages about refused peers must not cost a file read each. */
let userNames: Map<number, string> | undefined;

/** `uid 65534 (nobody)`: who owns something, for error messages. */
export function describeOwner(uid: number): string {
  if (userNames === undefined) {
    userNames = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'latin1').split('\n')) {
        const [user, , id] = line.split(':');
        if (user && id && !userNames.has(Number(id))) userNames.set(Number(id), user);
      }
    } catch {
      // no passwd file: the number says it
    }
  }
  const user = userNames.get(uid);
  return user === undefined ? `uid ${uid}` : `uid ${uid} (${user})`;
}

/** The refusal for a name that exists but belongs to another user: it is never used or removed. */
export function ownedByAnother(what: string, uid: number): ProcwireError {
  return new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${what} belongs to ${describeOwner(uid)}, not to this user; not using it`);
}

/** This process's uid, or undefined where there are none (Windows). */
export function ownUid(): number | undefined {
  return process.getuid?.();
}

/** Whether this process has `gid` as its effective or a supplementary group (as file permissions count it). */
export function inGroup(gid: number): boolean {
  if (process.getegid?.() === gid) return true;
  return process.getgroups?.().includes(gid) ?? false;
}

/**
 * Whether an object of another user, as fstat/lstat saw it, is one that user
 * shared with its group on purpose (exactly `mode`, nothing for others) and
 * this process is in that group: the only foreign objects a client uses.
 */
export function sharedWithMyGroup(info: { mode: number; gid: number }, mode: number): boolean {
  return (info.mode & 0o777) === mode && inGroup(info.gid);
}
