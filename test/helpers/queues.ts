import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '@procwire/native';

/**
 * Removes what an mq: server killed with SIGKILL leaves behind: its queue
 * (kernel queues outlive processes and count against the user's 800 KiB
 * RLIMIT_MSGQUEUE) and its control socket file.
 */
export function removeQueue(name: string): void {
  try {
    native.mqUnlink(name);
  } catch {
    // already gone
  }
  const dir = join(process.env.XDG_RUNTIME_DIR || tmpdir(), `procwire-${process.getuid!()}`);
  rmSync(join(dir, `mq-${name.slice(1)}.sock`), { force: true });
}
