import { constants } from 'node:os';
import { native } from '@procwire/native';

/**
 * Makes the kernel send this worker SIGTERM when its parent dies (Linux's
 * PR_SET_PDEATHSIG), so no worker outlives the process that spawned it; the
 * SIGTERM then runs procwire's graceful shutdown. A parent that died before
 * this call is caught by comparing the parent pid with the one spawn()
 * recorded. Where the OS has no such call, the worker still stops when its
 * link reads end-of-file.
 */
export const PARENT_PID_ENV = 'PROCWIRE_PARENT_PID';

export function bindToParent(): void {
  const expected = Number(process.env[PARENT_PID_ENV]);
  delete process.env[PARENT_PID_ENV];
  try {
    if (!native.setParentDeathSignal(constants.signals.SIGTERM)) return;
  } catch {
    return; // no native layer on this platform: end-of-file on the link is the signal
  }
  if (Number.isInteger(expected) && expected > 0 && process.ppid !== expected) process.kill(process.pid, 'SIGTERM');
}
