/**
 * Each public entry's declarations, compared with a checked-in report: adding,
 * dropping or changing an exported type or value shows up as a diff of
 * test/api/*.api.txt in review. After a deliberate change, rewrite the
 * reports with PROCWIRE_UPDATE_API=1 and commit them with the change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { apiReport } from './apiReport.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = [
  { name: 'procwire', source: 'packages/procwire/src/index.ts', report: 'test/api/procwire.api.txt' },
  { name: 'procwire/link', source: 'packages/procwire/src/link.ts', report: 'test/api/link.api.txt' },
];

for (const entry of ENTRIES) {
  it(`${entry.name}: its declarations match ${entry.report}`, () => {
    const actual = apiReport(root + entry.source, root + 'packages/procwire/tsconfig.json');
    if (process.env.PROCWIRE_UPDATE_API === '1') writeFileSync(root + entry.report, actual);
    expect(actual).toBe(readFileSync(root + entry.report, 'utf8'));
  }, 60_000);
}
