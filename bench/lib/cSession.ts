/**
 * One session of a C baseline: runs its program (under `taskset -c 0` when
 * pinned; its peer is a fork, so both share the CPU as the Node cases do)
 * and turns the one JSON line it prints into the SessionResult every other
 * case produces, so aggregation and the report treat C rows like the rest.
 */
import { spawn } from 'node:child_process';
import type { CaseInfo } from './cases.js';
import type { SessionResult, SessionSpec, ThroughputResult } from './session.js';
import { PINNED_CPU } from './spawnPinned.js';
import type { LatencySummary } from './stats.js';

/** A baseline runs a few seconds at most; past this it is stuck. */
const TIMEOUT_MS = 60_000;

interface Rate {
  readonly count: number;
  readonly seconds: number;
  readonly msgsPerSec: number;
}

interface ProgramOutput {
  readonly cpus: string;
  readonly latency?: Record<string, LatencySummary>;
  readonly throughput?: Record<string, Rate>;
  /** memcpy: copies of the buffer over the whole run… */
  readonly bytes?: Rate;
  /** …and the time of one copy, µs, under the key of the size. */
  readonly copy?: Record<string, LatencySummary>;
}

/** The program's command line: the ping-pong plan, or memcpy's own. */
function programArgs(spec: SessionSpec, info: CaseInfo): string[] {
  if (info.programArgs) {
    if (!spec.bytes) throw new Error(`${info.id} runs only in sessions that measure binary payloads`);
    return [String(spec.bytes.size), String(spec.bytes.targetSeconds), ...info.programArgs];
  }
  const { warmup, iterations, maxMs } = spec.latency;
  const oneWaySeconds = spec.throughput ? spec.throughput.targetSeconds : 0;
  return [spec.sizes.join(','), String(warmup), String(iterations), String(maxMs), String(oneWaySeconds)];
}

function rateResult(rate: Rate): ThroughputResult {
  const burst = { count: rate.count, requested: rate.count, complete: true, seconds: rate.seconds, msgsPerSec: rate.msgsPerSec };
  return { msgsPerSec: rate.msgsPerSec, complete: true, bursts: [burst] };
}

/**
 * memcpy's rate is taken from its median copy time, not from copies over
 * wall time: a single process is preempted by whatever else runs on the
 * machine, and a reference row should show what one copy costs.
 */
function memcpyRate(rate: Rate, copy: LatencySummary | undefined): Rate {
  return copy && copy.p50 > 0 ? { ...rate, msgsPerSec: 1e6 / copy.p50 } : rate;
}

export function runCSession(spec: SessionSpec, info: CaseInfo, binary: string, pinned: boolean): Promise<SessionResult> {
  const command = pinned ? ['taskset', '-c', PINNED_CPU, binary] : [binary];
  const child = spawn(command[0]!, [...command.slice(1), ...programArgs(spec, info)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    // The peer process dies with the program (PR_SET_PDEATHSIG), so killing the program is enough.
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`${info.program} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join('; ')}`));
        return;
      }
      const out = JSON.parse(line) as ProgramOutput;
      const latency: Record<number, LatencySummary> = {};
      for (const [size, summary] of Object.entries(out.latency ?? {})) latency[Number(size)] = summary;
      const throughput: Record<number, ThroughputResult> = {};
      for (const [size, rate] of Object.entries(out.throughput ?? {})) throughput[Number(size)] = rateResult(rate);
      const bytes =
        out.bytes && spec.bytes ? { ...rateResult(memcpyRate(out.bytes, out.copy?.[spec.bytes.size])), size: spec.bytes.size } : undefined;
      resolve({ caseId: spec.caseId, pinned: spec.pinned, cpus: { client: out.cpus, server: out.cpus }, latency, throughput, bytes });
    });
  });
}
