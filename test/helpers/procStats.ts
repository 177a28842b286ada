/**
 * What Linux's /proc says about another process: open descriptors, CPU time
 * and resident memory; and which kernel objects exist in /dev/shm and
 * /dev/mqueue. Fault and load tests read these to prove that a process
 * neither leaks nor busy-loops, from outside it.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Clock ticks per second of utime/stime (USER_HZ; 100 on every Linux we know, asked once). */
const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const PAGE_BYTES = (() => {
  try {
    return Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
  } catch {
    return 4096;
  }
})();

/** How many descriptors process `pid` has open. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** What each open descriptor of `pid` is (`socket:[123]`, `pipe:[45]`, a path...), for messages. */
export function fdTargets(pid: number): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      targets.push(`${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`);
    } catch {
      // closed meanwhile
    }
  }
  return targets;
}

/**
 * User plus system CPU time of all threads of `pid`, in clock ticks. The
 * command name in /proc/pid/stat may hold spaces and parentheses, so the
 * fields are counted from the last ')'.
 */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12.
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU time `pid` used over the next `ms` milliseconds, as a share of one CPU (0.05 = 5 %). */
export async function cpuShareOver(pid: number, ms: number): Promise<{ ticks: number; share: number }> {
  const before = cpuTicks(pid);
  const started = performance.now();
  await sleep(ms);
  const ticks = cpuTicks(pid) - before;
  const seconds = (performance.now() - started) / 1000;
  return { ticks, share: ticks / CLOCK_TICKS_PER_SECOND / seconds };
}

/** Resident memory of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const resident = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1];
  return Number(resident) * PAGE_BYTES;
}

/** Whether process `pid` still exists (a zombie counts as gone: it holds no descriptors). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Entries of /dev/mqueue (POSIX message queues), or undefined when the
 * mqueue file system is not mounted there (the queues exist all the same;
 * only this view of them is missing).
 */
export function devMqueueEntries(): string[] | undefined {
  const mounted = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === '/dev/mqueue' && line.split(' ')[2] === 'mqueue');
  return mounted ? readdirSync('/dev/mqueue').sort() : undefined;
}
