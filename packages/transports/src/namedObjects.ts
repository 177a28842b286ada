/**
 * The names an endpoint puts in the file system and the kernel, so that what
 * a killed process left behind can be found and removed. A name is "live"
 * while a server answers on it; only stale names are ever removed, so a live
 * server's names are never taken over.
 *
 * - unix:///path   the socket file
 * - fifo:///path   the well-known FIFO, and client pairs `path.<id>.c2s|s2c`
 *                  left by clients killed while connecting
 * - mq:///name     the server queue and its control socket; client reply
 *                  queues `/name.<id>` too when /dev/mqueue is mounted (Linux
 *                  offers no other way to list queues)
 * - shm:///name    the rendezvous socket (segments are anonymous memfds: they
 *                  have no name and vanish with the last process that maps them)
 */
import { closeSync, constants as fsConstants, existsSync, lstatSync, openSync, readdirSync, readlinkSync, unlinkSync, type Stats } from 'node:fs';
import { createConnection } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { native } from '@procwire/native';
import { parseEndpoint } from './endpoint.js';
import { removeGroupEndpointDir } from './names/runtimeDir.js';
import { controlPath, groupControlPath } from './mq/index.js';
import { groupRendezvousPath, rendezvousPath } from './shm/index.js';

export interface NamedObject {
  /** What it is. */
  readonly kind: 'socket' | 'fifo' | 'fifo-pair' | 'queue' | 'control-socket' | 'rendezvous-socket';
  /** A file system path, or a message queue name (`/calc`). */
  readonly name: string;
  /**
   * live: a process uses it (a server answers on it, a process holds it
   * open), or that cannot be ruled out; stale: left by a process that is
   * gone, as the kernel says for sure. Only stale objects are ever removed.
   */
  readonly state: 'live' | 'stale';
}

/**
 * Only a refused connect proves a socket file has no server: any other
 * failure (a full backlog, no permission, a path too long to try) leaves
 * it live, so that removeStaleObjects never takes a live server's name.
 */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'ECONNREFUSED'));
  });
}

/** A seqpacket socket (shm:'s rendezvous) answers a connect while its server lives; only ECONNREFUSED says it does not. */
function seqpacketAnswers(path: string): boolean {
  try {
    native.close(native.seqpacketConnect(path));
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ECONNREFUSED';
  }
}

/** Only ENXIO proves nobody reads a FIFO (no permission to try proves nothing). */
function fifoHasReader(path: string): boolean {
  try {
    closeSync(openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENXIO';
  }
}

/**
 * Whether a process of this user holds the message queue `name` open (its
 * descriptors read `/name` in /proc/<pid>/fd). A queue has no listener to
 * probe: a server whose control socket cannot be reached still holds it.
 */
function queueHeld(name: string): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return true; // cannot tell: keep it
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === name) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}

const isType = (path: string, test: (s: Stats) => boolean) => {
  try {
    return test(lstatSync(path));
  } catch {
    return false;
  }
};

/** Lists the named objects that belong to the endpoint `url`. */
export async function listNamedObjects(url: string): Promise<NamedObject[]> {
  const endpoint = parseEndpoint(url);
  const found: NamedObject[] = [];
  switch (endpoint.scheme) {
    case 'unix': {
      if (endpoint.path.startsWith('@')) return []; // abstract names vanish with their owner
      if (isType(endpoint.path, (s) => s.isSocket())) {
        found.push({ kind: 'socket', name: endpoint.path, state: (await socketAnswers(endpoint.path)) ? 'live' : 'stale' });
      }
      return found;
    }
    case 'fifo': {
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
    }
    case 'mq': {
      const name = endpoint.path;
      // The control socket is in the private directory, or in the group
      // endpoint directory for a server in access 'group' mode.
      let live = false;
      for (const control of [controlPath(name), groupControlPath(name)]) {
        if (!isType(control, (s) => s.isSocket())) continue;
        const answers = await socketAnswers(control);
        live ||= answers;
        found.push({ kind: 'control-socket', name: control, state: answers ? 'live' : 'stale' });
      }
      let queueExists = false;
      try {
        native.mqClose(native.mqOpen(name, native.constants.O_RDONLY, 0, 0, 0));
        queueExists = true;
      } catch {
        // no such queue (or not ours to open)
      }
      if (queueExists) found.push({ kind: 'queue', name, state: live || queueHeld(name) ? 'live' : 'stale' });
      if (existsSync('/dev/mqueue')) {
        for (const entry of readdirSync('/dev/mqueue')) {
          if (entry.startsWith(`${name.slice(1)}.`) && /\.[0-9a-f]{32}$/.test(entry)) {
            found.push({ kind: 'queue', name: `/${entry}`, state: live || queueHeld(`/${entry}`) ? 'live' : 'stale' });
          }
        }
      }
      return found;
    }
    case 'shm': {
      const name = /^\/([A-Za-z0-9._-]{1,200})$/.exec(endpoint.path)?.[1];
      if (!name) throw new ProcwireError(ErrorCode.INVALID_ENDPOINT, `${url}: expected shm:///name`);
      for (const path of [rendezvousPath(name), groupRendezvousPath(name)]) {
        if (isType(path, (s) => s.isSocket())) found.push({ kind: 'rendezvous-socket', name: path, state: seqpacketAnswers(path) ? 'live' : 'stale' });
      }
      return found;
    }
    default:
      throw new ProcwireError(ErrorCode.INVALID_ENDPOINT, `${url}: ${endpoint.scheme}: endpoints leave no named objects to list`);
  }
}

function endpointName(url: string): string {
  return parseEndpoint(url).path;
}

/** Removes the stale named objects of the endpoint `url`; returns what was removed. Live ones are left alone. */
export async function removeStaleObjects(url: string): Promise<NamedObject[]> {
  const removed: NamedObject[] = [];
  for (const object of await listNamedObjects(url)) {
    if (object.state !== 'stale') continue;
    try {
      if (object.kind === 'queue') native.mqUnlink(object.name);
      else unlinkSync(object.name);
      // A group-mode server's socket sits in a directory of its own (0750), which goes with it.
      if (object.name === groupControlPath(endpointName(url)) || object.name === groupRendezvousPath(endpointName(url).slice(1))) {
        removeGroupEndpointDir(dirname(object.name));
      }
      removed.push(object);
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
