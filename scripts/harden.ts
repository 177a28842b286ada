/**
 * `pnpm harden`: runs the hardening catalogue (bad input on every transport,
 * property tests, faults, load, limits, access control) and prints what was
 * tried and how much of it ended as procwire guarantees. Each test records
 * its rows through test/helpers/hardenTally.ts; this program collects them.
 *
 *   pnpm harden            the whole catalogue
 *   pnpm harden -- <files> only these test files (vitest filters)
 *
 * Exit status: vitest's (any failing test fails the run), or 1 when a row
 * lost work or passed fewer cases than it tried.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Row {
  section: string;
  name: string;
  tried: number;
  passed: number;
  lost: number;
  detail?: string;
}

/** The catalogue: every file that records hardening rows. */
const CATALOGUE = [
  'test/harden',
  'test/property',
  'test/e2e/accessControl.test.ts',
  'test/e2e/otherUser.test.ts',
  'test/e2e/tcpSecurity.test.ts',
  'test/e2e/handshakeGate.test.ts',
  'test/e2e/shmHostile.test.ts',
];

const SECTION_ORDER = ['bad input', 'property', 'faults', 'load', 'limits', 'access'];

function main(): number {
  const requested = process.argv.slice(2).filter((a) => a !== '--');
  const targets = requested.length > 0 ? requested : CATALOGUE.filter((path) => existsSync(path));
  const dir = mkdtempSync(join(tmpdir(), 'procwire-harden-'));
  const out = join(dir, 'rows.jsonl');
  const started = performance.now();
  const run = spawnSync('npx', ['vitest', 'run', ...targets], {
    stdio: 'inherit',
    env: { ...process.env, PROCWIRE_HARDEN_OUT: out },
  });
  const seconds = (performance.now() - started) / 1000;
  const rows: Row[] = existsSync(out)
    ? readFileSync(out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Row)
    : [];
  rmSync(dir, { recursive: true, force: true });
  const shortfall = printSummary(rows, seconds);
  if (run.status !== 0) {
    console.log(`\nvitest failed (exit ${run.status ?? run.signal}): the catalogue did not pass.`);
    return run.status ?? 1;
  }
  if (rows.length === 0) {
    console.log('\nno rows were recorded: nothing was measured.');
    return 1;
  }
  return shortfall ? 1 : 0;
}

function printSummary(rows: Row[], seconds: number): boolean {
  console.log('\n== procwire hardening summary');
  let shortfall = false;
  const sections = [...new Set([...SECTION_ORDER, ...rows.map((r) => r.section)])];
  const total = { rows: 0, tried: 0, passed: 0, lost: 0 };
  for (const section of sections) {
    const inSection = rows.filter((r) => r.section === section);
    if (inSection.length === 0) continue;
    const tried = sum(inSection, 'tried');
    const passed = sum(inSection, 'passed');
    const lost = sum(inSection, 'lost');
    console.log(
      `\n${section}: ${inSection.length} checks, ${tried.toLocaleString('en')} cases, ${passed.toLocaleString('en')} passed, ${lost} lost`,
    );
    const width = Math.min(72, Math.max(...inSection.map((r) => r.name.length)));
    for (const row of inSection) {
      const ok = row.passed === row.tried && row.lost === 0;
      shortfall ||= !ok;
      const counts = `${row.passed.toLocaleString('en')}/${row.tried.toLocaleString('en')}`;
      const lostText = row.lost > 0 ? `  LOST ${row.lost}` : '';
      console.log(
        `  ${ok ? 'ok  ' : 'FAIL'} ${row.name.padEnd(width)}  ${counts.padStart(15)}${lostText}${row.detail ? `  ${row.detail}` : ''}`,
      );
    }
    total.rows += inSection.length;
    total.tried += tried;
    total.passed += passed;
    total.lost += lost;
  }
  console.log(
    `\ntotal: ${total.rows} checks, ${total.tried.toLocaleString('en')} cases tried, ${total.passed.toLocaleString('en')} passed, ${total.lost} lost, in ${seconds.toFixed(0)} s`,
  );
  console.log('the native layer under AddressSanitizer and UBSan: .ci/native-sanitizers.sh (run by CI)');
  return shortfall;
}

function sum(rows: Row[], key: 'tried' | 'passed' | 'lost'): number {
  return rows.reduce((total, row) => total + (row[key] ?? 0), 0);
}

process.exit(main());
