/**
 * Probes that tell whether a name is still used, for the transports'
 * named-object listings. Each says "stale" only when the kernel says so for
 * sure; anything else counts as live, so a live server's name is never
 * taken.
 */
import { lstatSync, type Stats } from 'node:fs';
import { createConnection } from 'node:net';

/**
 * Only a refused connect proves a socket file has no server: any other
 * failure (a full backlog, no permission, a path too long to try) leaves
 * it live, so that removeStaleObjects never takes a live server's name.
 */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'ECONNREFUSED'));
  });
}

/** Whether `path` exists (not following a symbolic link) and passes `test`. */
export function isType(path: string, test: (s: Stats) => boolean): boolean {
  try {
    return test(lstatSync(path));
  } catch {
    return false;
  }
}
