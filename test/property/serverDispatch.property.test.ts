/**
 * A real server (createServer, the `prop` contract) over an in-memory link,
 * fed arbitrary messages: every type 0-10 and others, ids of every kind,
 * method names that name prototype members or are not strings, params with
 * `__proto__` keys, frames msgpackr cannot decode. It must never throw out
 * of a link callback, answer every well-formed request (once, with a result
 * or a typed error), report the malformed messages and only those, leave the
 * built-in prototypes alone, and still serve a valid call afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { serverRegressions } from './regressions.ts';
import { checkProperty, PROPERTY_TIMEOUT_MS, titleOf, type PropertyPlan } from './seeds.ts';
import { checkServerRun, serverRun, watch } from './serverProperty.ts';

beforeAll(() => watch.start());
afterAll(() => watch.stop());

const plan: PropertyPlan = {
  name: 'server: arbitrary messages are answered, reported or ignored, and the server keeps serving',
  offset: 11,
  numRuns: 400,
};

describe('server dispatcher properties', () => {
  it(
    titleOf(plan),
    async () => {
      await checkProperty(
        plan,
        fc.asyncProperty(serverRun, (run) => checkServerRun(run)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe('server dispatcher regressions (counterexamples found by the properties)', () => {
  it.each(serverRegressions.map((r) => [r.name, r] as const))('%s', async (_name, r) => {
    await checkServerRun({ hello: r.hello, messages: r.messages.map((value) => ({ value })), pauses: [], chunks: { kind: 'whole' } });
  });
  it('a run with no messages at all is served (the regression list may be empty)', async () => {
    await checkServerRun({ hello: false, messages: [], pauses: [], chunks: { kind: 'whole' } });
  });
});
