/**
 * The names a fifo:///path endpoint leaves: the well-known FIFO, and client
 * pairs `path.<id>.c2s|s2c` left by clients killed while connecting.
 */
import { closeSync, constants as fsConstants, existsSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isType } from '../names/probes.js';
import type { NamedObject, NamedObjects } from '../transport.js';

/** Only ENXIO proves nobody reads a FIFO (no permission to try proves nothing). */
function fifoHasReader(path: string): boolean {
  try {
    closeSync(openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENXIO';
  }
}

export const fifoNamedObjects: NamedObjects = {
  async list(endpoint) {
    const found: NamedObject[] = [];
    const path = endpoint.path;
    const live = isType(path, (s) => s.isFIFO()) && fifoHasReader(path);
    if (isType(path, (s) => s.isFIFO())) found.push({ kind: 'fifo', name: path, state: live ? 'live' : 'stale' });
    const prefix = `${basename(path)}.`;
    for (const entry of existsSync(dirname(path)) ? readdirSync(dirname(path)) : []) {
      if (entry.startsWith(prefix) && /\.[0-9a-f]{32}\.(c2s|s2c)$/.test(entry)) {
        const pair = join(dirname(path), entry);
        // A pair is in use for a moment only: while its client still reads
        // s2c, both names are its (its c2s is opened by name after that).
        const s2c = pair.replace(/\.c2s$/, '.s2c');
        const state = isType(s2c, (s) => s.isFIFO()) && fifoHasReader(s2c) ? 'live' : 'stale';
        found.push({ kind: 'fifo-pair', name: pair, state });
      }
    }
    return found;
  },
  remove: (object) => unlinkSync(object.name),
};
