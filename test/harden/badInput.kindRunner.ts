import type { BadInputKind } from './badInput.case.js';
import { applies, released, runCase, type CaseResult } from './badInput.caseRunner.js';
import type { HealthyCalls } from './badInput.healthyCalls.js';
import type { Target } from './badInput.targets.js';

/** Connections the server holds with no attack running: the healthy client's. */
const BASELINE_CONNECTIONS = 1;
/** The fewest attacks a measured kind makes, so that RSS growth per attack means something. */
const MIN_MEASURED_ATTACKS = 16;
/** How many times a measured kind of `cases` cases runs its list. */
export const measuredRounds = (cases: number): number => Math.max(1, Math.ceil(MIN_MEASURED_ATTACKS / Math.max(1, cases)));
/** Failed cases listed per kind (the rest are counted). */
const LISTED_FAILURES = 12;

export interface KindReport {
  readonly kind: string;
  readonly tried: number;
  readonly passed: number;
  readonly slowest: { readonly ms: number; readonly name: string; readonly how: string };
  /** Cases by how they ended. */
  readonly endings: Readonly<Record<CaseResult['how'], number>>;
  /** Server RSS in kB before and after (after full collections), when measured. */
  readonly rss?: { readonly before: number; readonly after: number };
  /** Protocol errors the server counted during the kind, and how many the cases predicted (undefined: not predicted). */
  readonly protocolErrors: { readonly counted: number; readonly predicted: number | undefined };
  /** Healthy calls that failed or answered wrongly during the kind. */
  readonly healthyLost: number;
  /** What went wrong: failed cases, a dead server, changed prototypes, a count that does not add up. */
  readonly problems: readonly string[];
}

/**
 * Runs every case of a kind that applies to the target, one fresh hostile
 * connection each, then checks what the server holds: no connection beyond
 * the healthy one, untouched prototypes, the protocol errors the cases
 * predict, and (when `measure`) its RSS after full collections.
 */
export async function runKind(target: Target, kind: BadInputKind, healthy: HealthyCalls, measure: boolean): Promise<KindReport> {
  const applicable = kind.cases.filter((c) => applies(c, target));
  // A measured kind runs at least MIN_MEASURED_ATTACKS cases (its list again
  // and again): what a few large frames leave with the allocator for a while
  // is not growth per attack.
  const cases = Array.from({ length: measure ? measuredRounds(applicable.length) : 1 }, () => applicable).flat();
  const problems: string[] = [];
  const healthyLostBefore = healthy.wrong.length;
  const before = await target.admin(measure);
  const endings: Record<CaseResult['how'], number> = { closed: 0, released: 0, answered: 0, dropped: 0 };
  let slowest = { ms: -1, name: '', how: '' };
  let passed = 0;
  let failed = 0;
  let predicted: number | undefined = 0;
  let tried = 0;
  for (const c of cases) {
    let result: CaseResult;
    try {
      result = await runCase(target, c, BASELINE_CONNECTIONS);
    } catch (error) {
      result = {
        name: c.name,
        passed: false,
        how: 'closed',
        ms: 0,
        problems: [`the case threw: ${(error as Error).message}`],
        counted: undefined,
      };
    }
    tried++;
    endings[result.how]++;
    if (result.ms > slowest.ms) slowest = { ms: result.ms, name: result.name, how: result.how };
    predicted = predicted === undefined || result.counted === undefined ? undefined : predicted + result.counted;
    if (result.passed) passed++;
    else if (++failed <= LISTED_FAILURES) problems.push(`${kind.kind} / ${result.name}: ${result.problems.join('; ')}`);
    if (!target.alive()) {
      problems.push(`the server process died during "${c.name}"`);
      break;
    }
  }
  if (failed > LISTED_FAILURES) problems.push(`${kind.kind}: ${failed - LISTED_FAILURES} more cases failed`);
  if (!target.alive())
    return { kind: kind.kind, tried, passed, slowest, endings, protocolErrors: { counted: 0, predicted }, healthyLost: 0, problems };
  if (!(await released(target, BASELINE_CONNECTIONS))) problems.push(`${kind.kind}: the server still holds hostile connections`);
  const after = await target.admin(measure);
  const counted = after.protocolErrors - before.protocolErrors;
  if (predicted !== undefined && counted !== predicted)
    problems.push(`${kind.kind}: the server counted ${counted} protocol errors, the cases predict ${predicted}`);
  if (after.prototypeChanges.length > 0) problems.push(`${kind.kind}: prototypes changed: ${after.prototypeChanges.join(', ')}`);
  return {
    kind: kind.kind,
    tried,
    passed,
    slowest,
    endings,
    rss: measure ? { before: before.rss, after: after.rss } : undefined,
    protocolErrors: { counted, predicted },
    healthyLost: healthy.wrong.length - healthyLostBefore,
    problems,
  };
}

/** The two passes of a kind (warm-up and measured) as one row. */
export function mergeReports(warm: KindReport, measured: KindReport): KindReport {
  return {
    ...measured,
    tried: warm.tried + measured.tried,
    passed: warm.passed + measured.passed,
    slowest: warm.slowest.ms > measured.slowest.ms ? warm.slowest : measured.slowest,
    endings: Object.fromEntries(
      Object.entries(measured.endings).map(([k, v]) => [k, v + warm.endings[k as CaseResult['how']]]),
    ) as KindReport['endings'],
    healthyLost: warm.healthyLost + measured.healthyLost,
    problems: [...warm.problems, ...measured.problems],
  };
}
