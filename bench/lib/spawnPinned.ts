/**
 * Starting a measuring client, optionally under `taskset -c 0`, in its own
 * process group. The client's servers are its children, so they inherit
 * both the CPU affinity (a pinned case really has both processes on CPU 0)
 * and the group, so killing the group by the client's pid removes every
 * process of a session even if the client itself crashed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** The CPU pinned sessions run on. */
export const PINNED_CPU = '0';

/** True when `taskset` exists and can pin (Linux with util-linux). */
export function canPin(): boolean {
  const probe = spawnSync('taskset', ['-c', PINNED_CPU, 'true'], { stdio: 'ignore' });
  return probe.status === 0;
}

const groups = new Set<ChildProcess>();
let hooked = false;

/** Kills the whole process group led by `child` (the client and the servers it started). */
export function killGroup(child: ChildProcess): void {
  groups.delete(child);
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

function killEveryGroup(): void {
  for (const child of [...groups]) killGroup(child);
}

/**
 * Runs `node <this process's Node options> script ...args`, under
 * `taskset -c 0` when `pinned`. Node options are passed on so the tsx
 * loader works in the child as it does here.
 */
export function spawnNode(script: string, args: readonly string[], pinned: boolean): ChildProcess {
  const node = [process.execPath, ...process.execArgv, script, ...args];
  const command = pinned ? ['taskset', '-c', PINNED_CPU, ...node] : node;
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.add(child);
  if (!hooked) {
    hooked = true;
    // Detached groups do not get the terminal's Ctrl-C: pass it on, by pid.
    process.once('exit', killEveryGroup);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killEveryGroup();
        process.exit(130);
      });
    }
  }
  return child;
}
