/**
 * A Unix socket file that appears at its path already with its final mode
 * and never replaces a live server's file (unix: endpoints, mq:'s control
 * socket).
 */
import { mkdtemp, rmdir, chmod, link as hardLink, lstat, stat, unlink } from 'node:fs/promises';
import { createConnection, type Server as NetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { MAX_UNIX_PATH_BYTES } from '../endpoint.js';
import { ownedByAnother } from '../names/ownedNames.js';
import { listenOn } from './stream.js';

/**
 * The path a socket file is first bound at (listenOnFile): a private
 * directory beside it, `.procwire-XXXXXX/s`. It must fit in sun_path too,
 * or the kernel's bind would be given a cut-off path.
 */
function bindPathBytes(path: string): number {
  return Buffer.byteLength(join(dirname(path), TEMPORARY_BIND_NAME));
}

/** What listenOnFile binds at first, beside the socket's path (mkdtemp's XXXXXX). */
export const TEMPORARY_BIND_NAME = '.procwire-XXXXXX/s';

/**
 * Why a socket file cannot be served at `path` (bound there by
 * listenOnFile, or only reached with `use` 'connect'), naming the limit; undefined when it can.
 */
export function socketPathProblem(path: string, use: 'listen' | 'connect'): string | undefined {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH_BYTES)
    return `${path} is ${bytes} bytes, longer than the ${MAX_UNIX_PATH_BYTES} bytes a Unix socket address holds`;
  if (use === 'listen' && bindPathBytes(path) > MAX_UNIX_PATH_BYTES) {
    return (
      `the directory is too long: the socket is first bound at ${join(dirname(path), TEMPORARY_BIND_NAME)} (${bindPathBytes(path)} bytes), ` +
      `and a Unix socket address holds ${MAX_UNIX_PATH_BYTES}; a directory of at most ${MAX_UNIX_PATH_BYTES - 1 - TEMPORARY_BIND_NAME.length} bytes is needed`
    );
  }
  return undefined;
}

/** Binds in a private directory, then links the socket, already `mode` (0600 or 0660), into place. */
export async function listenOnFile(server: NetServer, path: string, mode = 0o600): Promise<{ ino: number }> {
  const privateDir = await mkdtemp(join(dirname(path), '.procwire-'));
  const bound = join(privateDir, 's');
  try {
    await listenOn(server, bound);
    await chmod(bound, mode);
    for (let attempt = 0; ; attempt++) {
      try {
        await hardLink(bound, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
        await removeIfStale(path);
      }
    }
    return { ino: (await stat(path)).ino };
  } catch (error) {
    server.close();
    throw error;
  } finally {
    await unlink(bound).catch(() => {});
    await rmdir(privateDir).catch(() => {});
  }
}

/** Removes a socket file no server answers on; a live one is never touched. */
async function removeIfStale(path: string): Promise<void> {
  const info = await lstat(path);
  if (!info.isSocket()) {
    throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${path} exists and is not a socket; not replacing it`);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'ECONNREFUSED'));
  });
  if (alive) throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `a server is already listening on unix://${path}`);
  if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
    throw ownedByAnother(`${path} (a stale socket)`, info.uid);
  }
  await unlink(path);
}
