/**
 * `pnpm bench`: procwire against the raw Node floor, the JavaScript IPC
 * libraries its users would otherwise pick and the C programs that show
 * each mechanism's physical limit, measured side by side in one run. The
 * runner itself measures nothing: it compiles the C baselines, runs the
 * idle checks, starts one measuring process per session (bench/client.ts,
 * or a C program; under `taskset -c 0` when pinned), collects the results,
 * prints the report and writes bench/results/latest.json and chart.svg.
 *
 * Sessions are interleaved (every case once, then every case again) so a
 * slow phase of the VM touches all cases alike instead of one case's
 * repetitions.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregate } from './lib/aggregate.js';
import { parseArgs, selects, USAGE, type BenchArgs } from './lib/args.js';
import { CASES, caseInfo, modesOf } from './lib/cases.js';
import { buildCPrograms, type CBuild } from './lib/cBuild.js';
import { renderChart } from './lib/chart.js';
import { runCSession } from './lib/cSession.js';
import { IDLE_CHECKS, runIdleCheck, type IdleResult } from './lib/idleCheck.js';
import { describeMachine } from './lib/machine.js';
import { BLOB_SIZE, SIZES } from './lib/payload.js';
import { renderReport } from './lib/report.js';
import { RESULT_PREFIX, type SessionResult, type SessionSpec } from './lib/session.js';
import { canPin, killGroup, spawnNode } from './lib/spawnPinned.js';
import { evaluateTargets, IDLE_SECONDS } from './lib/targets.js';

const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
/** The committed copy of the chart (written with --publish), which the README shows. */
const PUBLISHED_CHART = fileURLToPath(new URL('./chart.svg', import.meta.url));
/** A session that has not finished by then is killed and reported as an error. */
const SESSION_TIMEOUT_MS = 90_000;

function plan(args: BenchArgs, socketDir: string, ids: readonly string[]): SessionSpec[] {
  // Pinned figures are the ones compared, so they get the long runs; unpinned
  // round trips take ~3x longer on this VM and only show the second level.
  const pinnedLatency = args.quick ? { warmup: 500, iterations: 5000, maxMs: 600 } : { warmup: 2000, iterations: 20000, maxMs: 1500 };
  const unpinnedLatency = args.quick ? { warmup: 300, iterations: 2000, maxMs: 300 } : { warmup: 1000, iterations: 8000, maxMs: 800 };
  const throughput = {
    measuredBursts: args.quick ? 1 : 3,
    probeCounts: { 64: 10_000, 4096: 2_000 },
    targetSeconds: 0.2,
    minCount: 2_000,
    // Bounds what a sender that outruns its receiver can queue (4 KiB x 100k = 400 MiB would be too much).
    maxCounts: { 64: 1_000_000, 4096: 60_000 },
    maxSeconds: args.quick ? 2 : 3,
  };
  // 1 MiB payloads: the sender may queue a whole burst, so the largest is bounded at 256 MiB.
  const bytes = {
    ...throughput,
    probeCounts: { [BLOB_SIZE]: 16 },
    minCount: 8,
    maxCounts: { [BLOB_SIZE]: 256 },
    size: BLOB_SIZE,
  };
  const specs: SessionSpec[] = [];
  for (let r = 0; r < args.repeats; r++) {
    for (const caseId of ids) {
      const info = caseInfo(caseId);
      for (const mode of modesOf(info)) {
        const pinned = mode === 'pinned';
        const latency = pinned ? pinnedLatency : unpinnedLatency;
        const extra = pinned ? {} : { throughput, bytes: info.bytes ? bytes : undefined };
        specs.push({ caseId, pinned, sizes: SIZES, latency, socketDir, ...extra });
      }
    }
  }
  return specs;
}

/** Runs one session in a fresh client process (or the case's C program); rejects with its stderr when it fails. */
function runSession(spec: SessionSpec, pinned: boolean, build: CBuild | undefined): Promise<SessionResult> {
  const info = caseInfo(spec.caseId);
  if (info.program) {
    const binary = build?.binaries.get(info.program);
    if (!binary) return Promise.reject(new Error(`${info.program} was not built`));
    return runCSession(spec, info, binary, pinned);
  }
  const child = spawnNode(CLIENT, [JSON.stringify(spec)], pinned);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`timed out after ${SESSION_TIMEOUT_MS / 1000} s`));
    }, SESSION_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      killGroup(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever the client left behind in its group goes too.
      killGroup(child);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) return resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as SessionResult);
      const tail = stderr.trim().split('\n').slice(-6).join('\n    ');
      reject(new Error(`client exited with ${code ?? signal}${tail ? `:\n    ${tail}` : ''}`));
    });
  });
}

/** One line of progress per session: whatever it measured at 64 B, and GB/s when it moved binary payloads. */
function progress(result: SessionResult): string {
  const l = result.latency[64];
  const t = result.throughput[64];
  const parts = [l ? `p50 ${l.p50.toFixed(2)} µs` : undefined, t ? `${Math.round(t.msgsPerSec)} msgs/s` : undefined].filter(Boolean);
  const b = result.bytes;
  return `${parts.length ? `${parts.join(', ')} (64 B)` : ''}${b ? `${parts.length ? ', ' : ''}${((b.msgsPerSec * b.size) / 1e9).toFixed(2)} GB/s (1 MiB)` : ''}`;
}

/** The idle checks run side by side before the sessions: they are idle, so they do not disturb each other. */
async function runIdleChecks(args: BenchArgs, socketDir: string): Promise<IdleResult[]> {
  const checks = IDLE_CHECKS.filter((c) => selects(args.only, c.id));
  if (checks.length === 0) return [];
  process.stderr.write(`idle checks (${IDLE_SECONDS} s after start-up, side by side): ${checks.map((c) => c.id).join(', ')}\n`);
  const results = await Promise.all(checks.map((c) => runIdleCheck(c, socketDir, IDLE_SECONDS)));
  for (const r of results) {
    process.stderr.write(
      `${r.id}: ${r.totalMs === undefined ? `FAILED ${r.error}` : `${r.totalMs.toFixed(2)} ms CPU (client + server)`}\n`,
    );
  }
  return results;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const machine = describeMachine();
  const pinnedAvailable = canPin();
  if (!pinnedAvailable) process.stderr.write('warning: taskset is not available; "pinned" sessions run unpinned\n');
  const ids = CASES.map((c) => c.id).filter((id) => selects(args.only, id));
  if (ids.length === 0 && !IDLE_CHECKS.some((c) => selects(args.only, c.id))) {
    throw new Error(
      `--only=${args.only.join(',')} matches nothing; cases: ${CASES.map((c) => c.id).join(' ')}; idle checks: ${IDLE_CHECKS.map((c) => c.id).join(' ')}`,
    );
  }
  const socketDir = mkdtempSync(join(tmpdir(), 'procwire-bench-'));
  const programs = ids.map((id) => caseInfo(id).program).filter((p) => p !== undefined);
  const build = programs.length ? buildCPrograms(programs) : undefined;
  // Also on Ctrl-C, where the signal hook in spawnPinned.ts exits before `finally` runs.
  const removeTemporaries = () => {
    rmSync(socketDir, { recursive: true, force: true });
    build?.remove();
  };
  process.once('exit', removeTemporaries);
  const started = Date.now();
  try {
    const errors: { caseId: string; message: string }[] = [];
    // A C program that did not build is reported once, as not measured; its sessions are not planned.
    const unbuilt = ids.filter((id) => {
      const program = caseInfo(id).program;
      const why = program ? build?.failures.get(program) : undefined;
      if (why) errors.push({ caseId: id, message: `not measured: ${why}` });
      return why !== undefined;
    });
    for (const e of errors) process.stderr.write(`${e.caseId}: ${e.message}\n`);
    const idle = await runIdleChecks(args, socketDir);
    const specs = plan(
      args,
      socketDir,
      ids.filter((id) => !unbuilt.includes(id)),
    );
    process.stderr.write(`procwire bench: ${specs.length} sessions on ${machine.cpuModel}, node ${machine.node}\n`);
    const sessions: SessionResult[] = [];
    for (const [k, spec] of specs.entries()) {
      const label = `[${String(k + 1).padStart(String(specs.length).length)}/${specs.length}] ${spec.caseId} ${spec.pinned ? 'pinned' : 'unpinned'}`;
      const t0 = Date.now();
      try {
        const result = await runSession(spec, spec.pinned && pinnedAvailable, build);
        sessions.push(result);
        const took = ((Date.now() - t0) / 1000).toFixed(1);
        process.stderr.write(`${label}: ${progress(result)} [${took} s]\n`);
      } catch (error) {
        const message = (error as Error).message;
        errors.push({ caseId: spec.caseId, message: `${spec.pinned ? 'pinned' : 'unpinned'}: ${message}` });
        process.stderr.write(`${label}: FAILED ${message}\n`);
      }
    }
    const figures = aggregate(sessions, errors, ids, SIZES);
    const targets = evaluateTargets(figures, idle);
    const seconds = (Date.now() - started) / 1000;
    const report = renderReport({
      machine,
      pinnedAvailable,
      repeats: args.repeats,
      quick: args.quick,
      sizes: SIZES,
      figures,
      targets,
      idle,
      seconds,
      planSummary: planSummary(specs),
    });
    process.stdout.write(`\n${report}\n`);
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, 'latest.json');
    writeFileSync(
      file,
      `${JSON.stringify({ machine, options: { ...args, pinnedAvailable }, seconds, cases: Object.fromEntries(figures), idle, targets, sessions }, null, 2)}\n`,
    );
    const chart = renderChart({ machine, figures, quick: args.quick, only: args.only, repeats: args.repeats });
    const chartFile = join(RESULTS, 'chart.svg');
    writeFileSync(chartFile, chart);
    process.stdout.write(`\nresults written to ${file}\nchart written to ${chartFile}\n`);
    if (args.publish) {
      if (args.quick || args.only.length)
        process.stderr.write('warning: publishing the chart of a quick or partial run (its caption says so)\n');
      writeFileSync(PUBLISHED_CHART, chart);
      process.stdout.write(`chart published to ${PUBLISHED_CHART}\n`);
    }
    if (errors.length) process.exitCode = 1;
  } finally {
    removeTemporaries();
  }
}

/** One line saying how many calls and bursts each session ran. */
function planSummary(specs: readonly SessionSpec[]): string {
  const pinned = specs.find((s) => s.pinned && s.caseId.startsWith('procwire'))?.latency ?? specs.find((s) => s.pinned)?.latency;
  const unpinned = specs.find((s) => !s.pinned && s.throughput);
  const parts: string[] = [];
  if (pinned) parts.push(`pinned ${pinned.warmup} warm-up + ${pinned.iterations} timed calls (at most ${pinned.maxMs / 1000} s)`);
  if (unpinned) {
    const { latency, throughput } = unpinned;
    parts.push(
      `unpinned ${latency.warmup} + ${latency.iterations} (at most ${latency.maxMs / 1000} s), then ` +
        `${throughput!.measuredBursts} burst(s) of ~${throughput!.targetSeconds} s after a sizing probe`,
    );
  }
  return parts.length ? `Per session and size: ${parts.join('; ')}.` : '';
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error)?.message ?? String(error)}\n`);
  process.exitCode = 1;
});
