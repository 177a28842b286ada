/**
 * CPU time a process used, read from /proc. utime+stime (/proc/PID/stat)
 * is what the issue names, but it counts in clock ticks (10 ms here), far
 * too coarse to tell "a few wake-ups" from "none"; so every thread's
 * /proc/PID/task/TID/schedstat (nanoseconds on the CPU) and context switches
 * are read as well. A thread that exits between two samples takes its time
 * with it; the idle processes measured here keep their threads.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSample {
  /** utime + stime of the whole process, in clock ticks. */
  readonly ticks: number;
  /** Per thread: nanoseconds on a CPU (schedstat), undefined where the kernel does not provide it. */
  readonly runNs: ReadonlyMap<string, number> | undefined;
  /** Per thread: voluntary + involuntary context switches, i.e. times it stopped running. */
  readonly switches: ReadonlyMap<string, number>;
}

export interface CpuUse {
  /** utime + stime over the window, ms (a multiple of the tick). */
  readonly tickMs: number;
  /** Time on a CPU over the window, ms, from schedstat (undefined without it). */
  readonly runMs: number | undefined;
  /** Context switches over the window: how often it woke up and slept again. */
  readonly switches: number;
  readonly threads: number;
}

let clockTicks: number | undefined;

/** Clock ticks per second (USER_HZ), from getconf; 100 on every Linux this runs on. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(out.stdout?.trim());
    clockTicks = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return clockTicks;
}

export function sampleCpu(pid: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of proc(5); fields[0] here is field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  let runNs: Map<string, number> | undefined = new Map();
  const switches = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (runNs) {
        const schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
        runNs.set(tid, Number(schedstat.split(' ')[0]));
      }
    } catch {
      runNs = undefined;
    }
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const voluntary = Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      const involuntary = Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      switches.set(tid, voluntary + involuntary);
    } catch {
      // the thread exited while being read
    }
  }
  return { ticks, runNs, switches };
}

/** What a process used between two samples; threads born in between count from zero. */
export function cpuUsed(before: CpuSample, after: CpuSample): CpuUse {
  const delta = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>) => {
    let sum = 0;
    for (const [tid, value] of b) sum += value - (a.get(tid) ?? 0);
    return sum;
  };
  return {
    tickMs: ((after.ticks - before.ticks) * 1000) / ticksPerSecond(),
    runMs: before.runNs && after.runNs ? delta(before.runNs, after.runNs) / 1e6 : undefined,
    switches: delta(before.switches, after.switches),
    threads: after.switches.size,
  };
}
