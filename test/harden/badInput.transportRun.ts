import { recordHardening } from '../helpers/hardenTally.js';
import type { BadInputKind } from './badInput.case.js';
import { callContinuously } from './badInput.healthyCalls.js';
import { measuredRounds, mergeReports, runKind, type KindReport } from './badInput.kindRunner.js';
import type { TargetKind } from './badInput.targets.js';

/** The issue's bound on what one attack may leave the server holding. */
const RSS_PER_ATTACK_LIMIT_KB = 2048;

export interface TransportRun {
  readonly reports: readonly KindReport[];
  /**
   * Server RSS (kB, after full collections) before the first measured kind
   * and after the last (which includes what each kind's warm-up took up
   * once), and the growth summed over the measured runs alone.
   */
  readonly rss: { readonly before: number; readonly after: number; readonly measuredGrowth: number; readonly attacks: number };
  readonly healthyCalls: number;
  readonly healthySlowestMs: number;
  /** Everything that went wrong, for one assertion at the end (so every row is recorded first). */
  readonly problems: readonly string[];
}

const growthOf = (report: KindReport): number => (report.rss ? report.rss.after - report.rss.before : 0);
const growthPerAttack = (report: KindReport): number => growthOf(report) / Math.max(1, report.tried);
const mb = (kb: number) => `${kb >= 0 ? '+' : ''}${(kb / 1024).toFixed(2)} MB`;

/**
 * Attacks one transport's server with `kinds`, kind after kind: first a
 * warm-up run of the kind (every `warmUpEvery`-th case, not measured: V8
 * and the allocator settle; a kind of large frames takes the server's RSS up
 * once, then no further), then the kind measured, the server's RSS taken
 * after full collections before and after. A healthy client calls all
 * along. Records one hardening row per kind (both runs counted).
 */
export async function attackTransport(target: TargetKind, kinds: readonly BadInputKind[], warmUpEvery: number): Promise<TransportRun> {
  // Spawned hosts inherit every connection up front: a warm-up and a measured run of each kind, and room to measure three kinds again.
  const measuredSize = (k: BadInputKind) => k.cases.length * measuredRounds(k.cases.length);
  const connections =
    kinds.reduce((n, k) => n + Math.ceil(k.cases.length / warmUpEvery) + measuredSize(k), 0) + 3 * Math.max(...kinds.map(measuredSize));
  const server = await target.start(connections);
  try {
    const healthy = callContinuously(server.healthy);
    const problems: string[] = [];
    const reports: KindReport[] = [];
    let start: number | undefined;
    let attacks = 0;
    let measuredGrowth = 0;
    for (const kind of kinds) {
      const warm = await runKind(server, { kind: kind.kind, cases: kind.cases.filter((_, i) => i % warmUpEvery === 0) }, healthy, false);
      start ??= (await server.admin(true)).rss;
      let measured = await runKind(server, kind, healthy, true);
      let report = mergeReports(warm, measured);
      let rssNote = '';
      // V8 may still size its heap up once in the measured run (a kind of
      // 100,000-element frames does, by some 20 MB, then never again): growth
      // near the limit is measured once more, and only growth that comes
      // again is growth per attack.
      if (growthPerAttack(measured) >= RSS_PER_ATTACK_LIMIT_KB / 2) {
        rssNote = ` (a first run grew ${mb(growthOf(measured))}, measured again)`;
        measured = await runKind(server, kind, healthy, true);
        report = mergeReports(report, measured);
      }
      reports.push(report);
      attacks += measured.tried;
      const growth = growthOf(measured);
      measuredGrowth += growth;
      const perAttack = growthPerAttack(measured);
      problems.push(...report.problems);
      if (perAttack >= RSS_PER_ATTACK_LIMIT_KB)
        problems.push(`${report.kind}: server RSS grew ${perAttack.toFixed(0)} kB per attack${rssNote}`);
      const endings = Object.entries(report.endings)
        .filter(([, n]) => n > 0)
        .map(([how, n]) => `${n} ${how}`)
        .join(', ');
      recordHardening({
        section: 'bad input',
        name: `${report.kind} over ${target.name}`,
        tried: report.tried,
        passed: report.passed,
        lost: report.healthyLost,
        detail: `slowest ${report.slowest.ms} ms (${report.slowest.how}), RSS ${mb(growth)} over ${measured.tried} (${perAttack.toFixed(1)} kB/attack)${rssNote}; ${endings}`,
      });
      if (!server.alive()) break;
    }
    const end = await server.admin(true);
    await healthy.stop();
    const rss = { before: start ?? end.rss, after: end.rss, measuredGrowth, attacks };
    if (measuredGrowth / Math.max(1, attacks) >= RSS_PER_ATTACK_LIMIT_KB)
      problems.push(`server RSS grew ${measuredGrowth} kB over ${attacks} measured attacks`);
    if (end.connections !== 1) problems.push(`the server ends with ${end.connections} connections`);
    if (end.prototypeChanges.length > 0) problems.push(`prototypes changed: ${end.prototypeChanges.join(', ')}`);
    problems.push(...healthy.wrong.slice(0, 10).map((w) => `healthy client: ${w}`));
    if (healthy.done() === 0) problems.push('the healthy client made no calls');
    return { reports, rss, healthyCalls: healthy.done(), healthySlowestMs: healthy.slowest(), problems };
  } finally {
    await server.stop();
  }
}

/** One line per kind for the test log. */
export function describeRun(transport: string, run: TransportRun): string {
  const lines = run.reports.map(
    (r) =>
      `  ${r.kind}: ${r.passed}/${r.tried} passed, slowest ${r.slowest.ms} ms (${r.slowest.how}: ${r.slowest.name}), ` +
      `protocol errors ${r.protocolErrors.counted}${r.protocolErrors.predicted === undefined ? '' : ` (predicted ${r.protocolErrors.predicted})`}, ` +
      Object.entries(r.endings)
        .map(([how, n]) => `${n} ${how}`)
        .join(' / '),
  );
  return (
    `bad input over ${transport}: server RSS ${run.rss.before} -> ${run.rss.after} kB, ${mb(run.rss.measuredGrowth)} over ${run.rss.attacks} measured attacks ` +
    `(${(run.rss.measuredGrowth / Math.max(1, run.rss.attacks)).toFixed(1)} kB/attack); healthy client ${run.healthyCalls} calls, slowest ${run.healthySlowestMs.toFixed(0)} ms\n` +
    lines.join('\n')
  );
}
