/** The soak's table: one row per transport. */
import { table } from '../bench/lib/format.js';
import type { Growth } from './growth.js';
import type { SoakOutcome } from './runTransport.js';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)}`;
const signedMb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${mb(bytes)}`;
const signed = (n: number | undefined) => (n === undefined ? '?' : `${n >= 0 ? '+' : ''}${n}`);
const rss = (g: Growth | undefined) => (g ? `${mb(g.start)} / ${mb(g.end)} / ${signedMb(g.growth)}` : '–');

export function renderTable(outcomes: readonly SoakOutcome[]): string {
  const header = [
    'transport',
    'calls',
    'duration',
    'calls/s',
    'server RSS MB start/end/growth',
    'client RSS MB start/end/growth',
    'peak srv/cli',
    'fd Δ srv/cli',
    'shm/mq Δ',
    'result',
  ];
  const rows = outcomes.map((o) => [
    o.transport,
    o.ok === o.calls ? o.calls.toLocaleString('en-US') : `${o.ok.toLocaleString('en-US')}/${o.calls.toLocaleString('en-US')}`,
    `${(o.ms / 1000).toFixed(1)} s`,
    o.ms > 0 ? Math.round(o.ok / (o.ms / 1000)).toLocaleString('en-US') : '–',
    rss(o.server),
    rss(o.client),
    `${o.serverPeak === undefined ? '–' : mb(o.serverPeak)} / ${o.clientPeak === undefined ? '–' : mb(o.clientPeak)}`,
    `${signed(o.serverFdDelta)} / ${signed(o.clientFdDelta)}`,
    `${signed(o.namedDelta.shm)} / ${signed(o.namedDelta.mqueue)}`,
    o.pass ? 'PASS' : 'FAIL',
  ]);
  return table(header, rows, 1);
}
