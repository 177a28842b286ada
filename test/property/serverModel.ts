/**
 * What a hostile or confused client may send a server, and what the server
 * must do with it by PROTOCOL.md sections 2.4, 4 and 9, worked out from the
 * decoded messages alone.
 */
import fc from 'fast-check';
import { decode, encode, ErrorCode, MAX_MSGID } from '@procwire/core';
import { wireScalar, wireValue } from './arbitraries.ts';
import { prop, RPC_NAMES, STREAM_NAMES } from './contract.ts';
import { canonical } from './msgpackModel.ts';

/** Id of the valid call every run ends with; no generated message uses it. */
export const FINAL_ID = 4_000_000_000;

/** One frame the test sends: a value it encodes, or bytes that structurally pass but cannot be decoded. */
export type Outgoing = { readonly value: unknown } | { readonly undecodableHex: string };

const msgid: fc.Arbitrary<unknown> = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 12 }) }, // ids that collide
    {
      weight: 3,
      arbitrary: fc.constantFrom(-1, -0, 0.5, 1.5, MAX_MSGID, MAX_MSGID + 1, 2 ** 53, -(2 ** 31), Number.NaN, Infinity, -Infinity),
    },
    { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 64n - 1n }) },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 2, arbitrary: wireScalar },
  )
  .filter((id) => id !== FINAL_ID);

const methodName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...RPC_NAMES, ...STREAM_NAMES, 'prop.tick') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'prop.__proto__',
      'prop.constructor',
      'prop.toString',
      'prop.hasOwnProperty',
      'prop',
      'prop.',
      '.echo',
      'echo',
      'nvim_get_api_info',
      '',
      'prop.echo ',
      'PROP.ECHO',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: wireScalar },
  { weight: 1, arbitrary: fc.constant(Buffer.from('prop.echo')) }, // pynvim sends names as bin
);

/** Objects whose keys try to reach a prototype once decoded (JSON.parse makes `__proto__` an own key). */
const pollution: fc.Arbitrary<unknown> = fc
  .constantFrom(
    '{"__proto__": {"polluted": "yes"}}',
    '{"n": 1, "__proto__": {"n": 2, "polluted": "yes"}}',
    '{"constructor": {"prototype": {"polluted": "yes"}}}',
    '{"__proto__": {"__proto__": {"polluted": "yes"}}, "to": 2}',
    '{"ms": 0, "__proto__": {"toString": "not a function", "valueOf": 1}}',
    '{"toString": 1, "valueOf": 2, "hasOwnProperty": 3}',
  )
  .map((json) => JSON.parse(json) as unknown);

const goodInput: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ n: fc.double() }),
  fc.record({ n: fc.integer() }),
  fc.record({ ms: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ to: fc.integer({ min: 0, max: 6 }) }),
);

const params: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: goodInput.map((input) => [input]) },
  { weight: 2, arbitrary: fc.array(wireValue, { maxLength: 3 }) },
  { weight: 1, arbitrary: wireValue },
  { weight: 2, arbitrary: pollution.map((p) => [p]) },
  { weight: 1, arbitrary: fc.constant([]) },
);

const credit: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 8 }) }, { weight: 1, arbitrary: msgid });

const helloBody: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ procwire: 1, channel: 'prop', version: 1 }) },
  { weight: 2, arbitrary: fc.record({ procwire: wireScalar, channel: wireScalar, version: wireScalar }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: wireValue },
);

/** Calls and streams as a procwire client makes them, with ids that may collide. */
const validId = fc.integer({ min: 0, max: 12 });
const wellFormed: fc.Arbitrary<unknown[]> = fc.oneof(
  fc.tuple(fc.constant(0), validId, fc.constant('prop.echo'), fc.tuple(fc.record({ n: fc.double() }))),
  fc.tuple(fc.constant(0), validId, fc.constant('prop.slow'), fc.tuple(fc.record({ ms: fc.integer({ min: 0, max: 20 }) }))),
  fc.tuple(fc.constant(0), validId, fc.constant('prop.any'), fc.oneof(fc.tuple(wireValue), fc.constant([]))),
  fc.tuple(fc.constant(0), validId, fc.constant('prop.fail'), fc.constant([])),
  fc.tuple(
    fc.constant(5),
    validId,
    fc.constant('prop.count'),
    fc.tuple(fc.record({ to: fc.integer({ min: 0, max: 6 }) })),
    fc.integer({ min: 0, max: 8 }),
  ),
  fc.tuple(fc.constant(4), validId),
  fc.tuple(fc.constant(8), validId, fc.integer({ min: 0, max: 8 })),
);

/** Messages of every type, right shape or nearly. */
const shaped: fc.Arbitrary<unknown[]> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constant(0), msgid, methodName, params) },
  { weight: 1, arbitrary: fc.tuple(fc.constant(2), methodName, params) },
  { weight: 2, arbitrary: fc.tuple(fc.constant(3), helloBody) },
  { weight: 2, arbitrary: fc.tuple(fc.constant(4), msgid) },
  { weight: 3, arbitrary: fc.tuple(fc.constant(5), msgid, methodName, params, credit) },
  { weight: 2, arbitrary: fc.tuple(fc.constant(8), msgid, credit) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(1, 6, 7, 9, 10, -1, 0.5), msgid, wireValue, wireValue) },
);

const resized: fc.Arbitrary<unknown[]> = fc
  .tuple(shaped, fc.constantFrom('keep', 'keep', 'keep', 'keep', 'keep', 'drop', 'extra'), wireValue)
  .map(([m, how, extra]) => (how === 'drop' ? m.slice(0, -1) : how === 'extra' ? [...m, extra] : m));

/** Frames that pass the delimiter but not msgpackr (a map keyed by an array, a bin, a timestamp). */
const UNDECODABLE = [
  '940001a870726f702e616e79918191 0102', // [0, 1, "prop.any", [{[1]: 2}]]
  '940002a870726f702e616e799181c4016101', // [0, 2, "prop.any", [{<bin>: 1}]]
  '81d6ff0000000001', // {<timestamp>: 1}
].map((hex) => hex.replace(/ /g, ''));

export const clientMessage: fc.Arbitrary<Outgoing> = fc.oneof(
  { weight: 12, arbitrary: wellFormed.map((value) => ({ value })) },
  { weight: 20, arbitrary: resized.map((value) => ({ value })) },
  { weight: 2, arbitrary: fc.array(wireValue, { maxLength: 6 }).map((value) => ({ value })) },
  { weight: 1, arbitrary: fc.tuple(wireValue, msgid, methodName, params).map((value) => ({ value })) },
  { weight: 1, arbitrary: wireValue.map((value) => ({ value })) },
  { weight: 1, arbitrary: fc.constantFrom(...UNDECODABLE).map((undecodableHex) => ({ undecodableHex })) },
);

export function bytesOf(message: Outgoing): Buffer {
  return 'value' in message ? encode(message.value) : Buffer.from(message.undecodableHex, 'hex');
}

// ---------------------------------------------------------------- model

export function isMsgid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_MSGID;
}

/** What one request must be answered with, when its id is used by no other call, stream or cancel. */
type Prediction =
  | { readonly kind: 'result'; readonly canonical: string; readonly rich: boolean }
  | { readonly kind: 'error'; readonly code: string; readonly rich: boolean }
  | { readonly kind: 'slow' };

export interface ServerExpectation {
  readonly protocolErrors: number;
  /** Well-formed messages per id, by type. */
  readonly requests: Map<number, number>;
  readonly cancels: Map<number, number>;
  readonly opens: Map<number, number>;
  /** Initial credit of every open plus every grant, per id. */
  readonly credit: Map<number, number>;
  readonly hellos: number;
  readonly predictions: Map<number, Prediction>;
}

function bump(map: Map<number, number>, id: number, by = 1): void {
  map.set(id, (map.get(id) ?? 0) + by);
}

const rpcSchemas = prop.rpc as Record<string, { input: { safeParse(v: unknown): { success: boolean } } }>;

/** The server's validation of one input: the schema, and for nil, a second try as undefined (validate.ts). */
function accepts(member: string, input: unknown): boolean {
  const schema = rpcSchemas[member]!.input;
  return schema.safeParse(input).success || (input === null && schema.safeParse(undefined).success);
}

function predictRequest(method: unknown, params: unknown, rich: boolean): Prediction {
  const error = (code: string): Prediction => ({ kind: 'error', code, rich });
  if (typeof method !== 'string' || !(RPC_NAMES as readonly string[]).includes(method)) return error(ErrorCode.METHOD_NOT_FOUND);
  if (!Array.isArray(params) || params.length > 1) return error(ErrorCode.INVALID_INPUT);
  const member = method.slice('prop.'.length);
  const input: unknown = params[0];
  if (!accepts(member, input)) return error(ErrorCode.INVALID_INPUT);
  switch (member) {
    case 'echo':
      return { kind: 'result', canonical: canonical((input as { n: number }).n), rich };
    case 'slow':
      return { kind: 'slow' };
    case 'fail':
      return error(ErrorCode.HANDLER_ERROR);
    default:
      return { kind: 'result', canonical: canonical(input === undefined ? null : input), rich };
  }
}

/** Decodes a frame as the server will; undefined when it cannot be decoded. */
export function decodedOf(message: Outgoing): { value: unknown } | undefined {
  try {
    return { value: decode(bytesOf(message)) };
  } catch {
    return undefined;
  }
}

/**
 * The type and msgid a receiver still reads from the start of an undecodable
 * frame (PROTOCOL.md 2.4); the frames of these models start with a fixarray,
 * a fixint type and a fixint msgid.
 */
export function peekedOf(message: Outgoing): { readonly length: number; readonly type: number; readonly id: number } | undefined {
  if (!('undecodableHex' in message)) return undefined;
  const b = Buffer.from(message.undecodableHex, 'hex');
  if (b.length < 3 || b[0]! < 0x90 || b[0]! > 0x9f || b[1]! > 0x7f || b[2]! > 0x7f) return undefined;
  return { length: b[0]! & 0x0f, type: b[1]!, id: b[2]! };
}

export function expectationOf(messages: readonly Outgoing[]): ServerExpectation {
  let protocolErrors = 0;
  let hellos = 0;
  const requests = new Map<number, number>();
  const cancels = new Map<number, number>();
  const opens = new Map<number, number>();
  const credit = new Map<number, number>();
  const idUses = new Map<number, number>();
  const candidates = new Map<number, Prediction>();
  for (const message of messages) {
    const decoded = decodedOf(message);
    if (decoded === undefined || !Array.isArray(decoded.value)) {
      protocolErrors++;
      // Reported, and yet a request or stream open whose msgid can be read is answered with PROTOCOL.
      const peeked = decoded === undefined ? peekedOf(message) : undefined;
      if (peeked?.type === 0 && peeked.length === 4) {
        bump(requests, peeked.id);
        bump(idUses, peeked.id);
        candidates.set(peeked.id, { kind: 'error', code: ErrorCode.PROTOCOL, rich: hellos > 0 });
      } else if (peeked?.type === 5 && peeked.length === 5) {
        bump(opens, peeked.id);
        bump(idUses, peeked.id);
      }
      continue;
    }
    const m = decoded.value as unknown[];
    const [type, id] = m;
    if (type === 0 && m.length === 4 && isMsgid(id)) {
      bump(requests, id);
      bump(idUses, id);
      candidates.set(id, predictRequest(m[2], m[3], hellos > 0));
    } else if (type === 2) {
      // A client's notification is ignored.
    } else if (
      type === 3 &&
      m.length === 2 &&
      typeof m[1] === 'object' &&
      m[1] !== null &&
      typeof (m[1] as { procwire?: unknown }).procwire === 'number'
    ) {
      hellos++;
    } else if (type === 4 && m.length === 2 && isMsgid(id)) {
      bump(cancels, id);
      bump(idUses, id);
    } else if (type === 5 && m.length === 5 && isMsgid(id) && isMsgid(m[4])) {
      bump(opens, id);
      bump(idUses, id);
      bump(credit, id, m[4]);
    } else if (type === 8 && m.length === 3 && isMsgid(id) && isMsgid(m[2])) {
      bump(credit, id, m[2]);
    } else {
      protocolErrors++;
    }
  }
  const predictions = new Map<number, Prediction>();
  for (const [id, prediction] of candidates) if (idUses.get(id) === 1) predictions.set(id, prediction);
  return { protocolErrors, requests, cancels, opens, credit, hellos, predictions };
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));
const CODE_PREFIX = /^([A-Z][A-Z0-9_]*): /;

/** The code of a typed error in either dialect, or a description of what is wrong with it. */
export function wireErrorCode(error: unknown): { code: string; rich: boolean } | { wrong: string } {
  if (typeof error === 'string') {
    const code = CODE_PREFIX.exec(error)?.[1];
    if (code === undefined || !KNOWN_CODES.has(code)) return { wrong: `untyped error string ${JSON.stringify(error)}` };
    return { code, rich: false };
  }
  if (typeof error === 'object' && error !== null && !Array.isArray(error)) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code !== 'string' || !KNOWN_CODES.has(code) || typeof message !== 'string')
      return { wrong: `untyped error map ${canonical(error)}` };
    return { code, rich: true };
  }
  return { wrong: `error of shape ${canonical(error)}` };
}
