/**
 * The names a shm:///name endpoint leaves: the rendezvous socket only
 * (segments are anonymous memfds: they have no name and vanish with the
 * last process that maps them).
 */
import { unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { native } from '@procwire/native';
import { isType } from '../names/probes.js';
import { groupEndpointDir, privateRuntimeDir, removeGroupEndpointDir } from '../names/runtimeDir.js';
import type { NamedObject, NamedObjects } from '../transport.js';

export const rendezvousName = (name: string) => `shm-${name}.sock`;

/** `<private runtime dir>/shm-<name>.sock`: the rendezvous and the server's lock. */
export function rendezvousPath(name: string): string {
  return join(privateRuntimeDir(), rendezvousName(name));
}

/** The rendezvous of a server with `access: 'group'`, in its group endpoint directory. */
export function groupRendezvousPath(name: string): string {
  return join(groupEndpointDir('shm', name), 'sock');
}

/** A seqpacket socket answers a connect while its server lives; only ECONNREFUSED says it does not. */
function seqpacketAnswers(path: string): boolean {
  try {
    native.close(native.seqpacketConnect(path));
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ECONNREFUSED';
  }
}

const nameOf = (path: string) => /^\/([A-Za-z0-9._-]{1,200})$/.exec(path)?.[1];

export const shmNamedObjects: NamedObjects = {
  async list(endpoint) {
    const name = nameOf(endpoint.path);
    if (!name) throw new ProcwireError(ErrorCode.INVALID_ENDPOINT, `${endpoint.url}: expected shm:///name`);
    const found: NamedObject[] = [];
    for (const path of [rendezvousPath(name), groupRendezvousPath(name)]) {
      if (isType(path, (s) => s.isSocket()))
        found.push({ kind: 'rendezvous-socket', name: path, state: seqpacketAnswers(path) ? 'live' : 'stale' });
    }
    return found;
  },
  remove(object, endpoint) {
    unlinkSync(object.name);
    // A group-mode server's socket sits in a directory of its own (0750), which goes with it.
    if (object.name === groupRendezvousPath(endpoint.path.slice(1))) removeGroupEndpointDir(dirname(object.name));
  },
};
