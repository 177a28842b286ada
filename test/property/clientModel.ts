/**
 * What a hostile or broken server may send a client once the handshake is
 * done, and what the client must make of it (PROTOCOL.md sections 4, 6 and
 * 7.2), worked out from the decoded messages alone.
 */
import fc from 'fast-check';
import { ErrorCode } from '@procwire/core';
import { wireScalar, wireValue } from './arbitraries.ts';
import { prop } from './contract.ts';
import { canonical } from './msgpackModel.ts';
import { decodedOf, peekedOf, type Outgoing } from './serverModel.ts';

/** The client's calls in every run: three echo calls, one slow call, then one stream (ids 1-5). */
export const CALLS = [
  { id: 1, method: 'echo' },
  { id: 2, method: 'echo' },
  { id: 3, method: 'echo' },
  { id: 4, method: 'slow' },
] as const;
export const STREAM_ID = 5;

const id: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 7 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, 2 ** 32, Number.NaN, '1', null, 1n << 60n) },
  { weight: 1, arbitrary: wireScalar },
);

const CODES = Object.values(ErrorCode);

const errorSlot: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.record({ code: fc.constantFrom(...CODES, 'OUT_OF_STOCK', ''), message: fc.string({ maxLength: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ code: fc.constantFrom(...CODES), message: fc.string(), data: wireValue }) },
  { weight: 1, arbitrary: fc.record({ code: wireScalar, message: wireScalar }, { requiredKeys: [] }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...CODES, 'lower_case', '1BAD'), fc.string({ maxLength: 20 })).map(([c, m]) => `${c}: ${m}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, 1), fc.string({ maxLength: 20 })) },
  { weight: 1, arbitrary: wireValue },
);

/** Results that pass a schema, fail it, or look like what the schema's transform makes. */
const result: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constant('done') },
  { weight: 1, arbitrary: fc.constantFrom({ validated: 1 }, { item: 1 }, { event: 1 }, null) },
  { weight: 2, arbitrary: wireValue },
);

const eventName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('prop.tick') },
  { weight: 2, arbitrary: fc.constantFrom('prop.echo', 'prop.count', 'prop.nope', '$/refused', '__proto__', 'prop.__proto__', 'tick', '') },
  { weight: 1, arbitrary: wireScalar },
);

const eventParams: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.record({ n: fc.double() })) },
  { weight: 1, arbitrary: fc.constantFrom([], [null], [{ event: 1 }], [{ n: '1' }]) },
  { weight: 1, arbitrary: fc.array(wireValue, { maxLength: 2 }) },
  { weight: 1, arbitrary: wireValue },
);

const shaped: fc.Arbitrary<unknown[]> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constant(1), id, errorSlot, result) },
  { weight: 3, arbitrary: fc.tuple(fc.constant(2), eventName, eventParams) },
  { weight: 4, arbitrary: fc.tuple(fc.constant(6), id, result) },
  { weight: 2, arbitrary: fc.tuple(fc.constant(7), id, errorSlot) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constant(3), fc.oneof(fc.constant({ procwire: 1, channel: 'prop', version: 1, role: 'server' }), wireValue)),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, 4, 5, 8, 9, 10, -1, '1'), id, wireValue) },
);

/** Answers, items and events as a correct server sends them, to the client's own ids. */
const ownId = fc.integer({ min: 1, max: STREAM_ID });
const wellFormed: fc.Arbitrary<unknown[]> = fc.oneof(
  fc.tuple(fc.constant(1), ownId, fc.constant(null), fc.oneof(fc.double(), fc.constant('done'))),
  fc.tuple(fc.constant(6), fc.constant(STREAM_ID), fc.oneof(fc.integer(), fc.double())),
  fc.tuple(
    fc.constant(7),
    fc.constant(STREAM_ID),
    fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: errorSlot }),
  ),
  fc.tuple(fc.constant(2), fc.constant('prop.tick'), fc.tuple(fc.record({ n: fc.double() }))),
);

const resized: fc.Arbitrary<unknown[]> = fc
  .tuple(shaped, fc.constantFrom('keep', 'keep', 'keep', 'keep', 'keep', 'drop', 'extra'), wireValue)
  .map(([m, how, extra]) => (how === 'drop' ? m.slice(0, -1) : how === 'extra' ? [...m, extra] : m));

export const serverMessage: fc.Arbitrary<Outgoing> = fc.oneof(
  { weight: 12, arbitrary: wellFormed.map((value) => ({ value })) },
  { weight: 20, arbitrary: resized.map((value) => ({ value })) },
  { weight: 1, arbitrary: fc.array(wireValue, { maxLength: 5 }).map((value) => ({ value })) },
  { weight: 1, arbitrary: wireValue.map((value) => ({ value })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('9401018191 0102c0', '81d6ff0000000001').map((hex) => ({ undecodableHex: hex.replace(/ /g, '') })),
  },
);

// ---------------------------------------------------------------- model

/** How a call or a stream ends for the caller. */
export type Settled = { readonly ok: true; readonly canonical: string } | { readonly ok: false; readonly code: string };

/** The code a client must read from an error slot (PROTOCOL.md 7.2). */
function codeFromWire(error: unknown): string {
  if (typeof error === 'object' && error !== null && !Array.isArray(error)) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && typeof message === 'string') return code;
  }
  if (typeof error === 'string') return /^([A-Z][A-Z0-9_]*): /.exec(error)?.[1] ?? ErrorCode.HANDLER_ERROR;
  if (Array.isArray(error) && typeof error[1] === 'string') return codeFromWire(error[1]);
  return ErrorCode.HANDLER_ERROR;
}

type ZodLike = { safeParse(v: unknown): { success: true; data: unknown } | { success: false } };

/** The client's validation (validate.ts): the schema, and for nil a second try as undefined. */
function validated(schema: ZodLike, value: unknown): { ok: true; value: unknown } | { ok: false } {
  const first = schema.safeParse(value);
  if (first.success) return { ok: true, value: first.data };
  if (value === null) {
    const retry = schema.safeParse(undefined);
    if (retry.success) return { ok: true, value: retry.data };
  }
  return { ok: false };
}

const outputs = prop.rpc as unknown as Record<string, { output: ZodLike }>;
const itemSchema = (prop.streams as unknown as Record<string, { output: ZodLike }>).count!.output;
const tickSchema = (prop.events as unknown as Record<string, ZodLike>).tick!;

export interface ClientExpectation {
  /** Per call id: how it settles (CLOSED when no answer came before close). */
  readonly calls: Map<number, Settled>;
  /** What the stream's reader gets: its items, then how it ends. */
  readonly streamItems: string[];
  readonly streamEnd: Settled;
  /** Payloads the event listener receives, in order. */
  readonly events: string[];
  /** Problems reported through onError. */
  readonly reports: number;
}

export function clientExpectationOf(messages: readonly Outgoing[]): ClientExpectation {
  const calls = new Map<number, Settled>();
  const streamItems: string[] = [];
  let streamEnd: Settled | undefined;
  let streamInvalid = false;
  const events: string[] = [];
  let reports = 0;
  for (const message of messages) {
    const decoded = decodedOf(message);
    if (decoded === undefined || !Array.isArray(decoded.value)) {
      reports++;
      // Reported, and yet the call or stream whose msgid can be read ends with PROTOCOL.
      const peeked = decoded === undefined ? peekedOf(message) : undefined;
      if (peeked?.type === 1 && peeked.length === 4 && CALLS.some((c) => c.id === peeked.id) && !calls.has(peeked.id)) {
        calls.set(peeked.id, { ok: false, code: ErrorCode.PROTOCOL });
      } else if (
        (peeked?.type === 6 || peeked?.type === 7) &&
        peeked.length === 3 &&
        peeked.id === STREAM_ID &&
        streamEnd === undefined &&
        !streamInvalid
      ) {
        streamEnd = { ok: false, code: ErrorCode.PROTOCOL };
      }
      continue;
    }
    const m = decoded.value as unknown[];
    const [type, id] = m;
    if (type === 1) {
      if (m.length !== 4 || typeof id !== 'number') reports++;
      else {
        const call = CALLS.find((c) => c.id === id);
        if (call === undefined || calls.has(id)) continue; // not pending (any more): ignored
        if (m[2] !== null) calls.set(id, { ok: false, code: codeFromWire(m[2]) });
        else {
          const v = validated(outputs[call.method]!.output, m[3]);
          calls.set(id, v.ok ? { ok: true, canonical: canonical(v.value) } : { ok: false, code: ErrorCode.INVALID_OUTPUT });
        }
      }
    } else if (type === 2) {
      if (m.length !== 3 || typeof m[1] !== 'string' || !Array.isArray(m[2])) reports++;
      else if (m[1] !== 'prop.tick') reports++;
      else {
        const v = validated(tickSchema, m[2][0]);
        if (v.ok) events.push(canonical(v.value));
        else reports++;
      }
    } else if (type === 6 || type === 7) {
      if (m.length !== 3 || typeof id !== 'number') reports++;
      else if (id === STREAM_ID && streamEnd === undefined) {
        if (type === 7) streamEnd = m[2] === null ? { ok: true, canonical: 'done' } : { ok: false, code: codeFromWire(m[2]) };
        else if (!streamInvalid) {
          const v = validated(itemSchema, m[2]);
          if (v.ok) streamItems.push(canonical(v.value));
          else streamInvalid = true;
        }
      }
    } else {
      reports++; // a second HELLO, or a type a client never takes
    }
  }
  for (const call of CALLS) if (!calls.has(call.id)) calls.set(call.id, { ok: false, code: ErrorCode.CLOSED });
  // The reader stops at the first item its schema refuses, whatever came after.
  const end: Settled = streamInvalid ? { ok: false, code: ErrorCode.INVALID_OUTPUT } : (streamEnd ?? { ok: false, code: ErrorCode.CLOSED });
  return { calls, streamItems, streamEnd: end, events, reports };
}
