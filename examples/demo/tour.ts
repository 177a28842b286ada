/**
 * `pnpm demo`: the same calc channel over every transport this OS offers,
 * each row a real server process and a real client process, in one table.
 * Exits non-zero when any row fails; always removes its processes and files.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableSchemes } from 'procwire';
import { killAll } from './processes.js';
import { runEntry, type Row } from './runEntry.js';
import { renderTable, type Column } from './table.js';
import { transportEntries } from './transports.js';

/** The tour must end within a minute; rows share what is left of this. */
const BUDGET_MS = 55_000;
const started = Date.now();
const deadline = started + BUDGET_MS;

const scratch = mkdtempSync(join(tmpdir(), 'procwire-tour-'));
const cleanUp = () => {
  killAll();
  rmSync(scratch, { recursive: true, force: true });
};
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
// Last resort if a row hangs past its own timeouts: 'exit' still cleans up.
setTimeout(() => {
  process.stderr.write(`tour: still running after ${BUDGET_MS + 5000} ms; giving up\n`);
  process.exit(1);
}, BUDGET_MS + 5000).unref();

const schemes = availableSchemes();
console.log(`procwire tour on ${platform()}/${arch()}, node ${process.version}; transports: ${schemes.join(', ')}\n`);

const rows: Row[] = [];
const entries = transportEntries.filter(
  (e) => schemes.includes(e.scheme) && (e.platforms === undefined || e.platforms.includes(process.platform)),
);
for (const [i, entry] of entries.entries()) {
  const dir = join(scratch, String(i));
  mkdirSync(dir);
  process.stderr.write(`  ${entry.name} ...\n`);
  rows.push(await runEntry(entry, dir, deadline));
}
for (const scheme of schemes.filter((s) => !transportEntries.some((e) => e.scheme === s))) {
  rows.push({ name: scheme, endpoint: '-', failures: ['no entry in examples/demo/transports.ts'] });
}

const us = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));
const columns: Column<Row>[] = [
  { title: 'transport', cell: (r) => r.name },
  { title: 'endpoint', cell: (r) => r.endpoint },
  { title: 'status', cell: (r) => (r.failures.length === 0 ? 'ok' : `FAILED: ${r.failures[0]!.slice(0, 48)}`) },
  { title: 'p50 µs', cell: (r) => us(r.report?.latency?.p50), align: 'right' },
  { title: 'p99 µs', cell: (r) => us(r.report?.latency?.p99), align: 'right' },
  {
    title: 'checks',
    cell: (r) =>
      r.report
        ? Object.entries(r.report.checks)
            .map(([k, v]) => `${k} ${v === true ? '✓' : '✗'}`)
            .join('  ')
        : '-',
  },
];
console.log(renderTable(columns, rows));
console.log('\np50/p99: round trip of one small add() call, one at a time, timed in the client (5000 calls after 2000 warm-up).');

const failed = rows.filter((r) => r.failures.length > 0);
for (const row of failed) console.log(`\n${row.name} failed:\n  ${row.failures.join('\n  ')}`);
console.log(`\n${rows.length - failed.length} of ${rows.length} transports ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failed.length > 0 || rows.length === 0 ? 1 : 0;
