/**
 * One run of the server dispatcher property: a fresh server on an in-memory
 * link, the messages, a final valid call, then every check. Shared by the
 * property, its regressions and longer exploratory runs.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { createServer, encode, ErrorCode, MessageType, type ProcwireError } from '@procwire/core';
import { MemoryAcceptor, MemoryLink } from '../helpers/memoryLink.ts';
import { chunking, cut, type Chunking } from './arbitraries.ts';
import { prop, propHandlers } from './contract.ts';
import { decodeRun, EscapeWatch, prototypesFingerprint, waitFor } from './dispatch.ts';
import { canonical } from './msgpackModel.ts';
import { bytesOf, clientMessage, expectationOf, FINAL_ID, isMsgid, wireErrorCode, type Outgoing } from './serverModel.ts';

/** Started by the test file around its runs. */
export const watch = new EscapeWatch();
const pristine = prototypesFingerprint();

export interface ServerRun {
  readonly hello: boolean;
  readonly messages: readonly Outgoing[];
  /** After which messages the test waits for the server before sending more. */
  readonly pauses: readonly boolean[];
  readonly chunks: Chunking;
}

/** Drives one connection through `run`; returns everything the property checks. */
async function serve(run: ServerRun) {
  const protocolErrors: ProcwireError[] = [];
  const acceptor = new MemoryAcceptor();
  const server = createServer(prop, propHandlers, acceptor, { onProtocolError: (error) => protocolErrors.push(error) });
  const [serverEnd, clientEnd] = MemoryLink.pair({ chunks: (bytes) => cut(bytes, run.chunks) }, {});
  const received: unknown[] = [];
  let peerClosed = false;
  clientEnd.start({
    frames: (source, start, end) => void received.push(...decodeRun(source, start, end)),
    drain: () => {},
    close: () => {
      peerClosed = true;
    },
  });
  acceptor.connect(serverEnd);
  const sent: Outgoing[] = [];
  if (run.hello) sent.push({ value: [MessageType.HELLO, { procwire: 1, channel: 'prop', version: 1 }] });
  sent.push(...run.messages);
  for (const [i, message] of sent.entries()) {
    clientEnd.sendBytes(bytesOf(message));
    if (run.pauses[i]) await clientEnd.settled();
  }
  clientEnd.sendBytes(encode([MessageType.REQUEST, FINAL_ID, 'prop.echo', [{ n: 42 }]]));
  const isFinal = (m: unknown) => Array.isArray(m) && m[0] === MessageType.RESPONSE && m[1] === FINAL_ID;
  // A callback that threw may have lost the rest of its run: stop waiting, the check reports it.
  const answered = await waitFor(() => received.some(isFinal) || serverEnd.callbackErrors.length > 0, 5000);
  const stats = server.stats;
  await server.close();
  await waitFor(() => peerClosed, 5000);
  await new Promise((resolve) => setImmediate(resolve));
  return { sent, received, protocolErrors, stats, answered, peerClosed, serverEnd, clientEnd, isFinal };
}

function count(map: Map<number, number>, id: number): number {
  return map.get(id) ?? 0;
}

/** Every assertion of the property, for one run. */
export async function checkServerRun(run: ServerRun): Promise<void> {
  const r = await serve(run);
  const model = expectationOf(r.sent);
  expect(r.serverEnd.callbackErrors).toEqual([]);
  expect(r.clientEnd.callbackErrors).toEqual([]);
  expect(watch.take()).toEqual([]);
  expect(prototypesFingerprint()).toBe(pristine);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();

  // Still serving: the last, valid call is answered with its result, once.
  expect(r.answered).toBe(true);
  expect(r.received.filter(r.isFinal)).toEqual([[MessageType.RESPONSE, FINAL_ID, null, 42]]);

  // Malformed messages, and only those, are reported (and counted).
  expect(r.protocolErrors.map((e) => e.code)).toEqual(new Array(model.protocolErrors).fill(ErrorCode.PROTOCOL));
  expect(r.stats.protocolErrors).toBe(model.protocolErrors);

  const responses = new Map<number, unknown[][]>();
  const ends = new Map<number, number>();
  const items = new Map<number, number>();
  let hellos = 0;
  for (const m of r.received) {
    expect(Array.isArray(m), `server sent a non-array: ${canonical(m)}`).toBe(true);
    const message = m as unknown[];
    const [type, id] = message;
    if (type === MessageType.HELLO) {
      hellos++;
      continue;
    }
    expect(isMsgid(id), `server used id ${canonical(id)}`).toBe(true);
    const n = id as number;
    if (type === MessageType.RESPONSE) {
      expect(message).toHaveLength(4);
      responses.set(n, [...(responses.get(n) ?? []), message]);
      const [, , error, result] = message;
      if (error !== null) {
        expect(result).toBeNull();
        const typed = wireErrorCode(error);
        expect(typed).not.toHaveProperty('wrong');
        // A plain msgpack-rpc peer (no hello yet) only ever gets "CODE: message" strings.
        if (model.hellos === 0) expect(typed).toMatchObject({ rich: false });
      }
    } else if (type === MessageType.STREAM_ITEM) {
      expect(message).toHaveLength(3);
      items.set(n, (items.get(n) ?? 0) + 1);
    } else if (type === MessageType.STREAM_END) {
      expect(message).toHaveLength(3);
      ends.set(n, (ends.get(n) ?? 0) + 1);
      if (message[2] !== null) expect(wireErrorCode(message[2])).not.toHaveProperty('wrong');
    } else {
      expect.fail(`server sent message type ${canonical(type)}`);
    }
  }
  // A HELLO answers each well-formed HELLO, and nothing else.
  expect(hellos).toBe(model.hellos);

  // Each well-formed request is answered once; only a CANCEL may take an answer away.
  for (const [id, list] of responses) {
    if (id === FINAL_ID) continue;
    expect(list.length, `responses to id ${id}`).toBeLessThanOrEqual(count(model.requests, id));
  }
  for (const [id, requested] of model.requests) {
    const got = responses.get(id)?.length ?? 0;
    expect(got, `responses to id ${id}`).toBeGreaterThanOrEqual(requested - count(model.cancels, id));
  }
  for (const [id, prediction] of model.predictions) {
    const [response] = responses.get(id) ?? [];
    expect(response, `the one request with id ${id} was answered`).toBeDefined();
    const [, , error, result] = response!;
    if (prediction.kind === 'slow') {
      if (error === null) expect(result).toBe('done');
      else expect(wireErrorCode(error)).toMatchObject({ code: ErrorCode.CLOSED });
    } else if (prediction.kind === 'result') {
      expect(error).toBeNull();
      expect(canonical(result)).toBe(prediction.canonical);
    } else {
      expect(wireErrorCode(error)).toEqual({ code: prediction.code, rich: prediction.rich });
    }
  }

  // Streams: one end per open at most (a CANCEL ends one silently), items within the credit given.
  for (const [id, n] of ends) expect(n, `stream ends for id ${id}`).toBeLessThanOrEqual(count(model.opens, id));
  for (const [id, opened] of model.opens) {
    expect(ends.get(id) ?? 0, `stream ends for id ${id}`).toBeGreaterThanOrEqual(opened - count(model.cancels, id));
  }
  for (const [id, n] of items) expect(n, `stream items for id ${id}`).toBeLessThanOrEqual(count(model.credit, id));
}

export const serverRun: fc.Arbitrary<ServerRun> = fc.record({
  hello: fc.boolean(),
  messages: fc.array(clientMessage, { maxLength: 30, size: 'medium' }),
  pauses: fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }), { maxLength: 26 }),
  chunks: chunking,
});
