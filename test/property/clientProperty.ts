/**
 * One run of the client dispatcher property: a real client (createClient)
 * on an in-memory link whose other end is the test playing a server. After
 * a correct handshake the "server" leaves four calls and a stream pending,
 * sends the run's messages, and the client is closed; every check follows.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { createClient, decode, encode, ErrorCode, MessageType, ProcwireError } from '@procwire/core';
import { MemoryLink } from '../helpers/memoryLink.ts';
import { chunking, cut, type Chunking } from './arbitraries.ts';
import { CALLS, clientExpectationOf, serverMessage, STREAM_ID, type Settled } from './clientModel.ts';
import { prop } from './contract.ts';
import { decodeRun, EscapeWatch, prototypesFingerprint, waitFor } from './dispatch.ts';
import { canonical } from './msgpackModel.ts';
import { bytesOf, type Outgoing } from './serverModel.ts';

/** Started by the test file around its runs. */
export const watch = new EscapeWatch();
const pristine = prototypesFingerprint();

export interface ClientRun {
  readonly messages: readonly Outgoing[];
  /** After which messages the "server" lets the client catch up before sending more. */
  readonly pauses: readonly boolean[];
  readonly chunks: Chunking;
}

function settledOf(outcome: PromiseSettledResult<unknown>): Settled | { wrong: string } {
  if (outcome.status === 'fulfilled') return { ok: true, canonical: canonical(outcome.value) };
  const error: unknown = outcome.reason;
  if (!(error instanceof ProcwireError) || typeof error.code !== 'string') return { wrong: `rejected with ${String(error)}` };
  return { ok: false, code: error.code };
}

/** Reads a stream to its end; what it yielded, and how it ended. */
async function readAll(stream: AsyncIterable<unknown>): Promise<{ items: string[]; end: Settled | { wrong: string } }> {
  const items: string[] = [];
  try {
    for await (const item of stream) items.push(canonical(item));
  } catch (error) {
    return { items, end: settledOf({ status: 'rejected', reason: error }) };
  }
  return { items, end: { ok: true, canonical: 'done' } };
}

export async function checkClientRun(run: ClientRun): Promise<void> {
  const [clientEnd, serverEnd] = MemoryLink.pair({ chunks: (bytes) => cut(bytes, run.chunks) }, {});
  const requests: unknown[] = [];
  serverEnd.start({
    frames: (source, start, end) => {
      for (const m of decodeRun(source, start, end)) {
        requests.push(m);
        if (Array.isArray(m) && m[0] === MessageType.HELLO) {
          serverEnd.send(encode([MessageType.HELLO, { procwire: 1, channel: 'prop', version: 1, maxFrameBytes: 1 << 20, role: 'server' }]));
        }
      }
    },
    drain: () => {},
    close: () => {},
  });
  const reports: ProcwireError[] = [];
  const client = await createClient(prop, clientEnd, { onError: (e) => reports.push(e), heartbeatMs: 0, callTimeoutMs: 0 });
  const events: string[] = [];
  client.on('tick', (payload) => {
    // A listener that decodes msgpack itself runs inside the client's decoding pass.
    expect(canonical(decode(encode(payload)))).toBe(canonical(payload));
    events.push(canonical(payload));
  });
  const calls = Promise.allSettled(CALLS.map((c, i) => (c.method === 'echo' ? client.rpc.echo({ n: i }) : client.rpc.slow({ ms: 1 }))));
  const stream = readAll(client.stream.count({ to: 3 }));
  const sentIds = () => requests.filter((m) => Array.isArray(m) && (m[0] === 0 || m[0] === 5)).map((m) => (m as unknown[])[1]);
  expect(await waitFor(() => sentIds().length === CALLS.length + 1, 5000)).toBe(true);
  expect(sentIds()).toEqual([...CALLS.map((c) => c.id), STREAM_ID]);

  for (const [i, message] of run.messages.entries()) {
    serverEnd.sendBytes(bytesOf(message));
    if (run.pauses[i]) await serverEnd.settled();
  }
  await serverEnd.settled();
  await new Promise((resolve) => setImmediate(resolve));
  await client.close();
  const [callOutcomes, streamOutcome] = await Promise.all([calls, stream]);
  await new Promise((resolve) => setImmediate(resolve));

  const model = clientExpectationOf(run.messages);
  expect(clientEnd.callbackErrors).toEqual([]);
  expect(serverEnd.callbackErrors).toEqual([]);
  expect(watch.take()).toEqual([]);
  expect(prototypesFingerprint()).toBe(pristine);
  // Every call settles as the model says: a value its schema produced, or a typed error.
  expect(callOutcomes.map(settledOf)).toEqual(CALLS.map((c) => model.calls.get(c.id)));
  expect(streamOutcome).toEqual({ items: model.streamItems, end: model.streamEnd });
  expect(events).toEqual(model.events);
  expect(
    reports.map((e) => e instanceof ProcwireError && [ErrorCode.PROTOCOL, ErrorCode.INVALID_OUTPUT].includes(e.code as 'PROTOCOL')),
  ).toEqual(new Array(model.reports).fill(true));
}

export const clientRun: fc.Arbitrary<ClientRun> = fc.record({
  messages: fc.array(serverMessage, { maxLength: 30, size: 'medium' }),
  pauses: fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }), { maxLength: 30 }),
  chunks: chunking,
});
