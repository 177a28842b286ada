/**
 * `pnpm bench`: procwire against the raw Node floor and the JavaScript IPC
 * libraries its users would otherwise pick, measured side by side in one
 * run. The runner itself measures nothing: it starts one measuring client
 * per session (bench/client.ts, under `taskset -c 0` when pinned), collects
 * the results, prints the report and writes bench/results/latest.json.
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
import { parseArgs, USAGE, type BenchArgs } from './lib/args.js';
import { CASES } from './lib/cases.js';
import { describeMachine } from './lib/machine.js';
import { SIZES } from './lib/payload.js';
import { renderReport } from './lib/report.js';
import { RESULT_PREFIX, type SessionResult, type SessionSpec } from './lib/session.js';
import { canPin, killGroup, spawnNode } from './lib/spawnPinned.js';
import { evaluateTargets } from './lib/targets.js';

const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
/** A session that has not finished by then is killed and reported as an error. */
const SESSION_TIMEOUT_MS = 90_000;

function plan(args: BenchArgs, socketDir: string): SessionSpec[] {
  const ids = CASES.map((c) => c.id).filter((id) => args.only.length === 0 || args.only.some((s) => id.includes(s)));
  if (ids.length === 0) throw new Error(`--only=${args.only.join(',')} matches no case; cases: ${CASES.map((c) => c.id).join(' ')}`);
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
  const specs: SessionSpec[] = [];
  for (let r = 0; r < args.repeats; r++) {
    for (const caseId of ids) {
      for (const pinned of [true, false]) {
        const latency = pinned ? pinnedLatency : unpinnedLatency;
        specs.push({ caseId, pinned, sizes: SIZES, latency, throughput: pinned ? undefined : throughput, socketDir });
      }
    }
  }
  return specs;
}

/** Runs one session in a fresh client process; rejects with its stderr when it fails. */
function runSession(spec: SessionSpec, pinned: boolean): Promise<SessionResult> {
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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const machine = describeMachine();
  const pinnedAvailable = canPin();
  if (!pinnedAvailable) process.stderr.write('warning: taskset is not available; "pinned" sessions run unpinned\n');
  const socketDir = mkdtempSync(join(tmpdir(), 'procwire-bench-'));
  // Also on Ctrl-C, where the signal hook in spawnPinned.ts exits before `finally` runs.
  const removeSocketDir = () => rmSync(socketDir, { recursive: true, force: true });
  process.once('exit', removeSocketDir);
  const started = Date.now();
  try {
    const specs = plan(args, socketDir);
    process.stderr.write(`procwire bench: ${specs.length} sessions on ${machine.cpuModel}, node ${machine.node}\n`);
    const sessions: SessionResult[] = [];
    const errors: { caseId: string; message: string }[] = [];
    for (const [k, spec] of specs.entries()) {
      const label = `[${String(k + 1).padStart(String(specs.length).length)}/${specs.length}] ${spec.caseId} ${spec.pinned ? 'pinned' : 'unpinned'}`;
      const t0 = Date.now();
      try {
        const result = await runSession(spec, spec.pinned && pinnedAvailable);
        sessions.push(result);
        const l = result.latency[64];
        const t = result.throughput[64];
        const took = ((Date.now() - t0) / 1000).toFixed(1);
        process.stderr.write(`${label}: p50 ${l?.p50.toFixed(1)} µs${t ? `, ${Math.round(t.msgsPerSec)} msgs/s` : ''} (64 B) [${took} s]\n`);
      } catch (error) {
        const message = (error as Error).message;
        errors.push({ caseId: spec.caseId, message: `${spec.pinned ? 'pinned' : 'unpinned'}: ${message}` });
        process.stderr.write(`${label}: FAILED ${message}\n`);
      }
    }
    const ids = [...new Set(specs.map((s) => s.caseId))];
    const figures = aggregate(sessions, errors, ids, SIZES);
    const targets = evaluateTargets(figures);
    const seconds = (Date.now() - started) / 1000;
    const first = (pinned: boolean) => specs.find((s) => s.pinned === pinned);
    const pinnedPlan = first(true)!.latency;
    const unpinned = first(false)!;
    const planSummary =
      `Per session and size: pinned ${pinnedPlan.warmup} warm-up + ${pinnedPlan.iterations} timed calls (at most ${pinnedPlan.maxMs / 1000} s); ` +
      `unpinned ${unpinned.latency.warmup} + ${unpinned.latency.iterations} (at most ${unpinned.latency.maxMs / 1000} s), then ` +
      `${unpinned.throughput!.measuredBursts} burst(s) of ~${unpinned.throughput!.targetSeconds} s after a sizing probe.`;
    const report = renderReport({
      machine,
      pinnedAvailable,
      repeats: args.repeats,
      quick: args.quick,
      sizes: SIZES,
      figures,
      targets,
      seconds,
      planSummary,
    });
    process.stdout.write(`\n${report}\n`);
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, 'latest.json');
    writeFileSync(
      file,
      `${JSON.stringify({ machine, options: { ...args, pinnedAvailable }, seconds, cases: Object.fromEntries(figures), targets, sessions }, null, 2)}\n`,
    );
    process.stdout.write(`\nresults written to ${file}\n`);
    if (errors.length) process.exitCode = 1;
  } finally {
    removeSocketDir();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error)?.message ?? String(error)}\n`);
  process.exitCode = 1;
});
