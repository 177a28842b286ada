import { describe, expect, it } from 'vitest';
import type { BadInputKind } from './badInput.case.js';
import { targetKinds } from './badInput.targets.js';
import { attackTransport, describeRun } from './badInput.transportRun.js';

/**
 * One test per transport: `kinds` against a real server process over it
 * (see badInput.transportRun.ts for what is checked). Test files pick a few
 * transports each, so that no file runs for minutes.
 */
export function attackSuite(
  title: string,
  transports: readonly string[],
  kinds: readonly BadInputKind[],
  warmUpEvery: number,
  minCases: number,
): void {
  describe(title, () => {
    for (const name of transports) {
      const target = targetKinds.find((k) => k.name === name);
      if (!target) throw new Error(`no transport named ${name}`);
      it.skipIf(!target.available)(
        `${name}: typed errors or a hang-up in time, healthy calls unharmed, RSS flat`,
        async () => {
          const run = await attackTransport(target, kinds, warmUpEvery);
          console.log(describeRun(name, run));
          expect(run.problems).toEqual([]);
          expect(run.reports.reduce((n, r) => n + r.tried, 0)).toBeGreaterThanOrEqual(minCases);
        },
        240_000,
      );
    }
  });
}
