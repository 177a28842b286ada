/**
 * The names an mq:///name endpoint leaves: the server queue and its control
 * socket; client reply queues `/name.<id>` too when /dev/mqueue is mounted
 * (Linux offers no other way to list queues).
 */
import { existsSync, readdirSync, readlinkSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { native } from '@procwire/native';
import { isType, socketAnswers } from '../names/probes.js';
import { groupEndpointDir, privateRuntimeDir, removeGroupEndpointDir } from '../names/runtimeDir.js';
import type { NamedObject, NamedObjects } from '../transport.js';

export const controlName = (name: string) => `mq-${name.slice(1)}.sock`;

/**
 * The Unix socket that is both the server's lock and every connection's
 * liveness wire: `<private runtime dir>/mq-<name>.sock`. (Not an abstract
 * name: Node 20 pads abstract names to 108 bytes and Node 22 does not, so
 * the two could not meet.)
 */
export function controlPath(name: string): string {
  return join(privateRuntimeDir(), controlName(name));
}

/** The control socket of a server with `access: 'group'`, in its group endpoint directory. */
export function groupControlPath(name: string): string {
  return join(groupEndpointDir('mq', name.slice(1)), 'sock');
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

export const mqNamedObjects: NamedObjects = {
  async list(endpoint) {
    const found: NamedObject[] = [];
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
  },
  remove(object, endpoint) {
    if (object.kind === 'queue') return native.mqUnlink(object.name);
    unlinkSync(object.name);
    // A group-mode server's socket sits in a directory of its own (0750), which goes with it.
    if (object.name === groupControlPath(endpoint.path)) removeGroupEndpointDir(dirname(object.name));
  },
};
