import fc from 'fast-check';
import { recordHardening } from '../helpers/hardenTally.ts';

/**
 * Every property runs from a fixed seed, so a failure seen once is seen
 * again on every machine. PROCWIRE_FC_SEED moves all of them at once (a soak
 * run over fresh inputs); PROCWIRE_FC_RUNS multiplies the run counts.
 */
const BASE_SEED = readInteger('PROCWIRE_FC_SEED') ?? 20_261_126;
const RUNS_FACTOR = readInteger('PROCWIRE_FC_RUNS') ?? 1;

function readInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer (got ${raw})`);
  return value;
}

export interface PropertyPlan {
  /** Row name in the hardening summary, and the start of the test's name. */
  readonly name: string;
  /** Distinguishes properties sharing the base seed. */
  readonly offset: number;
  readonly numRuns: number;
}

/** The seed and run count a plan resolves to. */
function planOf(plan: PropertyPlan): { seed: number; numRuns: number } {
  return { seed: (BASE_SEED + plan.offset) | 0, numRuns: Math.max(1, Math.round(plan.numRuns * RUNS_FACTOR)) };
}

/** Test timeout: room for the base runs on a loaded 2-vCPU machine, scaled with PROCWIRE_FC_RUNS. */
export const PROPERTY_TIMEOUT_MS = 120_000 * Math.max(1, RUNS_FACTOR);

/** Test title that carries what is needed to reproduce a run. */
export function titleOf(plan: PropertyPlan): string {
  const { seed, numRuns } = planOf(plan);
  return `${plan.name} (seed ${seed}, ${numRuns} runs)`;
}

/**
 * Runs a property with its plan's seed, records the hardening row with the
 * number of runs fast-check actually executed, and fails with fast-check's
 * report (seed, path and shrunk counterexample: what regressions.ts needs).
 */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  plan: PropertyPlan,
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  examples: Ts[] = [],
): Promise<void> {
  const { seed, numRuns } = planOf(plan);
  const started = performance.now();
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, { seed, numRuns, examples });
  const tried = details.numRuns;
  const passed = details.failed ? tried - 1 : tried;
  const ms = Math.round(performance.now() - started);
  recordHardening({
    section: 'property',
    name: plan.name,
    tried,
    passed,
    lost: tried - passed,
    detail: `seed ${seed}, ${ms} ms`,
  });
  if (details.failed) throw new Error(`${fc.defaultReportMessage(details)}\nAdd the counterexample to test/property/regressions.ts.`);
}
