import { chmodSync, lchownSync, lstatSync, mkdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { invalidEndpoint, MAX_UNIX_PATH_BYTES } from '../endpoint.js';
import { describeOwner, directoryMode, inGroup, ownedByAnother, ownUid } from './ownedNames.js';

/**
 * A directory only this user can enter, for procwire's own helper names
 * (the control sockets of message-queue servers, shm: rendezvous sockets,
 * semaphore files): $XDG_RUNTIME_DIR when set, else the temp directory,
 * plus `procwire-<uid>`, created 0700. One that exists but is not ours (a
 * squatter's), is not a directory, or is open to others, is refused.
 */
export function privateRuntimeDir(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = privateRuntimeDirPath();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  if (info.isDirectory() && info.uid !== uid) {
    throw new ProcwireError(ErrorCode.LISTEN_FAILED, `${dir} belongs to ${describeOwner(info.uid)}, not to uid ${uid}; not using it`);
  }
  if (!info.isDirectory() || (info.mode & 0o077) !== 0) {
    throw new ProcwireError(ErrorCode.LISTEN_FAILED, `${dir} must be a directory of uid ${uid} with mode 0700; not using it`);
  }
  return dir;
}

/** Where privateRuntimeDir() is, without making it. */
export function privateRuntimeDirPath(): string {
  return join(process.env.XDG_RUNTIME_DIR || tmpdir(), `procwire-${process.getuid?.() ?? 0}`);
}

/**
 * The socket paths an endpoint name turns into (in the private runtime
 * directory, in the group endpoint directory, and the temporary names they
 * are first bound at) must each fit in a Unix socket address, or bind and
 * connect would fail later, or work on a cut-off path. Refuses the name
 * with INVALID_ENDPOINT naming the path and the longest name that fits
 * with this process's directories.
 */
export function checkDerivedSocketPaths(url: string, name: string, paths: readonly string[]): void {
  let worst: string | undefined;
  let over = 0;
  for (const path of paths) {
    const excess = Buffer.byteLength(path) - MAX_UNIX_PATH_BYTES;
    if (excess > over) [worst, over] = [path, excess];
  }
  if (worst === undefined) return;
  const most = Buffer.byteLength(name) - over;
  throw invalidEndpoint(
    url,
    `the name is too long: it becomes the socket path ${worst} (${Buffer.byteLength(worst)} bytes), and a Unix socket address holds ${MAX_UNIX_PATH_BYTES}; ` +
      (most > 0
        ? `with these directories (XDG_RUNTIME_DIR, TMPDIR) a name may have at most ${most} bytes`
        : 'these directories (XDG_RUNTIME_DIR, TMPDIR) are too long for any name'),
  );
}

/**
 * Where a server with `access: 'group'` meets clients of other users for
 * endpoints whose names would otherwise live in the private runtime
 * directory (shm: and mq:): `<temp dir>/procwire-<kind>-<name>`, a
 * directory of the server's user and effective group, mode 0750, so the
 * group may enter it and nobody but its owner may put anything in it.
 * The temp directory (TMPDIR), not XDG_RUNTIME_DIR: that one is private to
 * each user. Both sides must therefore agree on TMPDIR.
 */
export function groupEndpointDir(kind: 'shm' | 'mq', name: string): string {
  return join(tmpdir(), `procwire-${kind}-${name}`);
}

/**
 * Creates the group endpoint directory (exactly 0750, the server's
 * effective group), or takes back one this user left behind. One of
 * another user is refused, naming its owner.
 */
export function makeGroupEndpointDir(dir: string): void {
  const uid = ownUid() ?? 0;
  try {
    mkdirSync(dir, { mode: directoryMode('owner') });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const info = lstatSync(dir);
  if (!info.isDirectory()) throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${dir} exists and is not a directory; not using it`);
  if (info.uid !== uid) throw ownedByAnother(dir, info.uid);
  // Ours (and only we may rename or remove it in a sticky temp directory):
  // the group and mode are set last, so it is never open before it is right.
  const gid = process.getegid?.() ?? info.gid;
  if (info.gid !== gid) lchownSync(dir, -1, gid);
  chmodSync(dir, directoryMode('group'));
}

/**
 * The path where the same user's server of the same name would be in the
 * other access mode (a second server must not take over its queue or its
 * clients); undefined when that directory is unusable: no server of ours is there.
 */
export function otherPath(compute: () => string): string | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}

/** Removes the group endpoint directory if it is empty (another server may have taken it over meanwhile). */
export function removeGroupEndpointDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // gone, or in use again
  }
}

/**
 * Whether a client may trust the group endpoint directory as that of the
 * server it reached (the server's uid as the kernel reported it): the
 * server's user owns it, it is exactly 0750 (nobody else can have put the
 * socket there) and its group is one of this process's. Then the server is
 * a member of this process's group who shared the endpoint on purpose.
 */
export function trustedGroupEndpointDir(dir: string, serverUid: number): boolean {
  try {
    const info = lstatSync(dir);
    return info.isDirectory() && info.uid === serverUid && (info.mode & 0o777) === directoryMode('group') && inGroup(info.gid);
  } catch {
    return false;
  }
}

/**
 * Reaches a server where this user's owner-mode server would be (the
 * private path), else where a group-mode server would be. With nothing at
 * either, the private path's error says it; else the group path's (EACCES).
 */
export async function reachPrivateOrGroup<T>(
  privatePath: string,
  groupPath: string,
  open: (path: string) => T | Promise<T>,
): Promise<{ reached: T; viaGroup: boolean }> {
  try {
    return { reached: await open(privatePath), viaGroup: false };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw error;
    try {
      return { reached: await open(groupPath), viaGroup: true };
    } catch (groupError) {
      throw (groupError as NodeJS.ErrnoException).code === 'ENOENT' ? error : groupError;
    }
  }
}

/**
 * A client takes a server of another user (its uid from the kernel) only
 * when it reached it through that server's group endpoint directory and the
 * directory is verifiably shared with this process's group; the refusal
 * otherwise.
 */
export function unsharedServer(url: string, dir: string, serverUid: number, viaGroup: boolean): ProcwireError | undefined {
  const uid = ownUid();
  if (uid === undefined || serverUid === uid) return undefined;
  if (viaGroup && trustedGroupEndpointDir(dir, serverUid)) return undefined;
  return new ProcwireError(
    ErrorCode.CONNECT_FAILED,
    `${url} is served by ${describeOwner(serverUid)}, who did not share it with a group of this process (${dir} must be theirs, 0750, of such a group); not connecting`,
  );
}
