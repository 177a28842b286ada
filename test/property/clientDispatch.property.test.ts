/**
 * A real client (createClient, the `prop` contract) over an in-memory link,
 * fed arbitrary server messages once its handshake is done: responses with
 * every kind of id, error slot and result, events known and unknown, stream
 * items and ends, second hellos, types a client never takes, undecodable
 * frames. It must never throw out of a link callback, settle each call as
 * PROTOCOL.md says (a value its schema produced, or a typed error), give the
 * stream's reader and the event listener only validated values, and report
 * exactly the malformed messages through onError.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, encode, MessageType, ProcwireError } from '@procwire/core';
import { MemoryLink } from '../helpers/memoryLink.ts';
import { checkClientRun, clientRun, watch } from './clientProperty.ts';
import { prop } from './contract.ts';
import { decodeRun } from './dispatch.ts';
import { clientRegressions, handshakeRegressions } from './regressions.ts';
import { checkProperty, PROPERTY_TIMEOUT_MS, titleOf, type PropertyPlan } from './seeds.ts';

beforeAll(() => watch.start());
afterAll(() => watch.stop());

const plan: PropertyPlan = {
  name: 'client: arbitrary server messages settle calls only with validated values or typed errors',
  offset: 21,
  numRuns: 400,
};

describe('client dispatcher properties', () => {
  it(
    titleOf(plan),
    async () => {
      await checkProperty(
        plan,
        fc.asyncProperty(clientRun, (run) => checkClientRun(run)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe('client dispatcher regressions (counterexamples found by the properties)', () => {
  it.each(clientRegressions.map((r) => [r.name, r] as const))('%s', async (_name, r) => {
    await checkClientRun({ messages: r.messages.map((value) => ({ value })), pauses: [], chunks: { kind: 'whole' } });
  });
  it('a run where the server sends nothing more ends every call with CLOSED (the regression list may be empty)', async () => {
    await checkClientRun({ messages: [], pauses: [], chunks: { kind: 'whole' } });
  });
});

describe('client handshake regressions (derived from the client property)', () => {
  it.each(handshakeRegressions.map((r) => [r.name, r] as const))(
    '%s: connect rejects with a typed error and closes its link',
    async (_name, r) => {
      const [clientEnd, serverEnd] = MemoryLink.pair();
      serverEnd.start({
        frames: (source, start, end) => {
          for (const m of decodeRun(source, start, end)) {
            if (Array.isArray(m) && m[0] === MessageType.HELLO) serverEnd.send(encode([MessageType.HELLO, r.hello]));
          }
        },
        drain: () => {},
        close: () => {},
      });
      let thrown: unknown;
      try {
        await createClient(prop, clientEnd, { heartbeatMs: 0 });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ProcwireError);
      expect((thrown as ProcwireError).code).toBe(r.code);
      expect(clientEnd.closed).toBe(true);
    },
  );
});
