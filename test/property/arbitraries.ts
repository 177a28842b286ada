/**
 * Generators shared by the properties: values procwire can encode, byte
 * streams that are almost valid, hostile byte soups, frame limits and ways
 * to cut a stream into chunks.
 */
import fc from 'fast-check';
import { encode, resolveFrameLimits, type FrameLimits } from '@procwire/core';

/** Keys that name something on Object.prototype, or that decoders treat specially. */
const SPECIAL_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', '0', '1e3'] as const;

const key = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_KEYS) });

/** Scalars of every MessagePack family, with their size boundaries. */
export const wireScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(0, -1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, -(2 ** 53)),
  fc.maxSafeInteger(),
  fc.double(), // NaN, ±Infinity and -0 included
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.constantFrom(2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n), -(2n ** 53n) - 1n, 2n ** 63n, 2n ** 64n - 1n),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }), // lone surrogates included
  fc.string({ unit: 'grapheme', minLength: 20, maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.date({ noInvalidDate: true }),
  fc.constant(new Date(Number.NaN)),
);

/** Rare large leaves: str16/str32, bin16/bin32. */
const largeLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 256, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 256, max: 70_000 }).map((n) => new Uint8Array(n).fill(0xc1)),
);

/** Any value the codec can encode: scalars, arrays and maps nested a few levels. */
export const wireValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof({ weight: 30, arbitrary: wireScalar }, { weight: 1, arbitrary: largeLeaf }),
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    { weight: 3, arbitrary: tie('leaf') },
    { weight: 1, arbitrary: fc.array(tie('node'), { maxLength: 20 }) },
    { weight: 1, arbitrary: fc.dictionary(key, tie('node'), { maxKeys: 18 }) },
  ),
})).node;

/** Bytes that often decide how a header is read. */
const INTERESTING_BYTES = [
  0x00, 0x0f, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc,
  0xcf, 0xd3, 0xd4, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
];

const anyByte = fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.integer({ min: 0, max: 255 }));

type Mutation =
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: anyByte }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }) },
);

function applyMutation(bytes: Buffer, m: Mutation): Buffer {
  const at = m.at % (bytes.length + 1);
  switch (m.kind) {
    case 'set': {
      if (bytes.length === 0) return Buffer.of(m.byte);
      const copy = Buffer.from(bytes);
      copy[m.at % bytes.length] = m.byte;
      return copy;
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    case 'truncate':
      return Buffer.from(bytes.subarray(0, at));
    case 'duplicate':
      return Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
  }
}

/** Valid frames back to back, then a few mutations: mostly valid, wrong in one place. */
export const nearValidStream: fc.Arbitrary<Buffer> = fc
  .tuple(fc.array(wireValue, { minLength: 1, maxLength: 4 }), fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([values, mutations]) => mutations.reduce(applyMutation, Buffer.concat(values.map((v) => encode(v)))));

/** Pieces a hostile peer builds streams from: headers with huge claims, deep nests, foreign extensions. */
const hostileToken: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 8 }),
  anyByte.map((b) => Uint8Array.of(b)),
  fc.constantFrom(
    Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff), // array32 of 4 billion
    Uint8Array.of(0xdf, 0x7f, 0xff, 0xff, 0xff), // map32
    Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff), // str32 of 4 GiB
    Uint8Array.of(0xc6, 0x00, 0x01, 0x00, 0x00), // bin32 of 64 KiB
    Uint8Array.of(0xc9, 0x00, 0x00, 0x10, 0x00, 0xff), // ext32 timestamp of 4 KiB
    Uint8Array.of(0xd4, 0x72, 0x00), // msgpackr record
    Uint8Array.of(0xd4, 0x00, 0x00), // ext 0
    Uint8Array.of(0xd6, 0xff, 0x00, 0x00, 0x00, 0x00), // timestamp 32
    Uint8Array.of(0x81, 0x91, 0x01, 0x02), // map with an array key
    Uint8Array.of(0x81, 0xc4, 0x01, 0x61, 0x01), // map with a bin key
  ),
  fc.integer({ min: 1, max: 80 }).map((n) => new Uint8Array(n).fill(0x91)), // nesting
  fc.integer({ min: 1, max: 40 }).map((n) => new Uint8Array(n).fill(0x90)), // empty arrays
);

export const hostileStream: fc.Arbitrary<Buffer> = fc.array(hostileToken, { maxLength: 12 }).map((tokens) => Buffer.concat(tokens));

/** Limits small enough that generated values hit them, or the defaults. */
export const frameLimits: fc.Arbitrary<FrameLimits> = fc
  .record({
    maxFrameBytes: fc.oneof(fc.integer({ min: 16, max: 400 }), fc.constant(4 * 1024 * 1024)),
    maxDepth: fc.oneof(fc.integer({ min: 2, max: 8 }), fc.constant(64)),
    maxElements: fc.oneof(fc.integer({ min: 4, max: 80 }), fc.constant(100_000)),
  })
  .map((l) => resolveFrameLimits(l));

/**
 * How a stream is cut into chunks: at given points, byte by byte, or not at
 * all. Byte by byte covers the first BYTEWISE_LIMIT bytes (every header split
 * every way) and passes the rest whole, so a 70 KB string costs no 70,000 chunks.
 */
const BYTEWISE_LIMIT = 4096;

export type Chunking =
  { readonly kind: 'whole' } | { readonly kind: 'bytewise' } | { readonly kind: 'cuts'; readonly cuts: readonly number[] };

export const chunking: fc.Arbitrary<Chunking> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'whole' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bytewise' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('cuts' as const), cuts: fc.array(fc.nat(), { minLength: 1, maxLength: 24 }) }) },
);

export function cut(bytes: Buffer, how: Chunking): Buffer[] {
  if (how.kind === 'whole') return [bytes];
  if (how.kind === 'bytewise') {
    const head = [...bytes.subarray(0, BYTEWISE_LIMIT)].map((b) => Buffer.of(b));
    return bytes.length > BYTEWISE_LIMIT ? [...head, bytes.subarray(BYTEWISE_LIMIT)] : head;
  }
  const points = [...new Set(how.cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    if (p > at) pieces.push(bytes.subarray(at, p));
    at = Math.max(at, p);
  }
  if (at < bytes.length || pieces.length === 0) pieces.push(bytes.subarray(at));
  return pieces;
}
