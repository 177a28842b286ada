/**
 * `pnpm soak`: millions of pipelined calls per Linux transport, with the
 * RSS of server and client read from /proc every few seconds. A transport
 * passes when every reply is correct, neither process's RSS grows by more
 * than 10 MB after the warm-up (soak/growth.ts says exactly how that is
 * measured), and open descriptors, handles, connections and the entries in
 * /dev/shm and /dev/mqueue are back where they were. Not part of CI: the
 * full run takes a long time. See soak/README.md.
 */
import { appendFileSync } from 'node:fs';
import { recordHardening } from '../test/helpers/hardenTally.js';
import { parseArgs, USAGE } from './args.js';
import { END_WINDOW, MAX_GROWTH_BYTES, START_WINDOW } from './growth.js';
import { renderTable } from './report.js';
import { runTransport, type SoakOutcome } from './runTransport.js';
import { TRANSPORTS } from './transports.js';

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (process.platform !== 'linux') {
  console.error('pnpm soak reads /proc and covers the Linux transports: it runs on Linux only');
  process.exit(2);
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
log(
  `soak: ${args.calls.toLocaleString('en-US')} calls per transport over ${args.transports.join(', ')}; ` +
    `${args.clients} connections x ${args.inFlight} in flight; RSS every ${args.sampleMs} ms`,
);

const outcomes: SoakOutcome[] = [];
for (const id of args.transports) {
  const transport = TRANSPORTS.find((t) => t.id === id)!;
  log(`${id}: starting`);
  const onSample = args.samplesFile
    ? (done: number, server: number, client: number) =>
        appendFileSync(args.samplesFile!, `${JSON.stringify({ transport: id, done, server, client })}\n`)
    : undefined;
  const outcome = await runTransport(transport, {
    calls: args.calls,
    clients: args.clients,
    inFlight: args.inFlight,
    sampleMs: args.sampleMs,
    onSample,
    log,
  });
  outcomes.push(outcome);
  log(`${id}: ${outcome.pass ? 'PASS' : 'FAIL'}${outcome.failures.length ? ` (${outcome.failures.join('; ')})` : ''}`);
  if (outcome.wholeDirDelta.shm !== 0 || outcome.wholeDirDelta.mqueue !== 0) {
    log(
      `${id}: note: /dev/shm ${outcome.wholeDirDelta.shm}, /dev/mqueue ${outcome.wholeDirDelta.mqueue} entries in all (other programs included)`,
    );
  }
  const growth = (g: SoakOutcome['server']) => (g ? `${g.growth >= 0 ? '+' : ''}${(g.growth / 1e6).toFixed(1)} MB` : 'not measured');
  recordHardening({
    section: 'load',
    name: `soak ${id}: ${args.calls.toLocaleString('en-US')} pipelined calls`,
    tried: outcome.calls,
    passed: outcome.ok,
    lost: outcome.calls - outcome.ok,
    detail:
      `${outcome.ms > 0 ? Math.round(outcome.ok / (outcome.ms / 1000)).toLocaleString('en-US') : '–'} calls/s; RSS growth server ${growth(outcome.server)}, ` +
      `client ${growth(outcome.client)}; fd delta ${outcome.serverFdDelta ?? '?'}/${outcome.clientFdDelta ?? '?'}; ` +
      `${outcome.pass ? 'PASS' : `FAIL: ${outcome.failures.join('; ')}`}`,
  });
}

console.log('');
console.log(renderTable(outcomes));
console.log('');
const percent = (window: readonly [number, number]) => `${window[0] * 100}-${window[1] * 100}%`;
console.log(
  `RSS start/end: the lowest RSS right after a full garbage collection at the checkpoints (every 5% of the calls, calls running) ` +
    `within ${percent(START_WINDOW)} and within ${percent(END_WINDOW)} of the calls; growth = end - start, pass <= ${MAX_GROWTH_BYTES / 1e6} MB ` +
    '(soak/growth.ts). peak: highest raw RSS sampled. fd Δ: after every connection closed vs before the run (a spawned worker: ' +
    'at 95% vs 5% of the calls). shm/mq Δ: entries in /dev/shm and /dev/mqueue named after the run.',
);
process.exitCode = outcomes.every((o) => o.pass) ? 0 : 1;
