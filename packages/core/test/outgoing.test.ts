/**
 * The sender's check (src/wire/outgoing.ts) must refuse exactly what the
 * receiver would: a frame passes it under some limits if and only if the
 * receiver's FrameDelimiter passes it under the same limits and msgpackr can
 * decode it. Checked on random values (Maps with keys of every kind among
 * them), plain and gathered.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, FrameDelimiter, resolveFrameLimits, type FrameLimits } from '../src/index.js';
import { encodeFrame, GATHER_MIN_BYTES, GatheredFrame } from '../src/wire/gather.js';
import { checkOutgoing, refusalFor, shapeOf } from '../src/wire/outgoing.js';

const scalar = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ maxLength: 40 }),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
    fc.array(fc.tuple(fc.oneof(scalar, tie('value')), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
  ),
}));
const limits: fc.Arbitrary<FrameLimits> = fc
  .record({
    maxFrameBytes: fc.integer({ min: 16, max: 4096 }),
    maxDepth: fc.integer({ min: 2, max: 12 }),
    maxElements: fc.integer({ min: 4, max: 80 }),
  })
  .map((l) => resolveFrameLimits(l));

function receiverAccepts(frame: Buffer, l: FrameLimits): boolean {
  try {
    new FrameDelimiter(l).push(frame, () => {});
    decode(frame);
    return true;
  } catch {
    return false;
  }
}

describe('checkOutgoing', () => {
  it('refuses a frame exactly when the receiver would', () => {
    fc.assert(
      fc.property(value, limits, (v, l) => {
        const frame = encode([6, 1, v]);
        expect(checkOutgoing(frame, l) === undefined).toBe(receiverAccepts(frame, l));
      }),
      { numRuns: 3000, seed: 1101 },
    );
  });

  it('finds map keys the decoder cannot read, at any depth', () => {
    fc.assert(
      fc.property(value, (v) => {
        const frame = encode(v);
        let decodable = true;
        try {
          decode(frame);
        } catch {
          decodable = false;
        }
        expect(shapeOf(frame).undecodableKey).toBe(!decodable);
      }),
      { numRuns: 3000, seed: 1102 },
    );
  });

  it('measures a gathered frame as its joined bytes', () => {
    const big = new Uint8Array(GATHER_MIN_BYTES + 3).fill(9);
    fc.assert(
      fc.property(value, (v) => {
        const frame = encodeFrame([1, 2, null, { v, big, more: [big, v] }]);
        expect(frame).toBeInstanceOf(GatheredFrame);
        expect(shapeOf(frame)).toEqual(shapeOf((frame as GatheredFrame).join()));
      }),
      { numRuns: 300, seed: 1103 },
    );
  });

  it('names the limit that is broken', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 64; i++) deep = [deep];
    const defaults = resolveFrameLimits();
    expect(refusalFor(shapeOf(encode([0, 1, 'x', [deep]])), defaults)).toEqual({ limit: 'maxDepth', value: 64 });
    expect(refusalFor(shapeOf(encode([0, 1, 'x', [Array.from({ length: 100_000 }, (_, i) => i)]])), defaults)).toEqual({
      limit: 'maxElements',
      value: 100_000,
    });
    expect(refusalFor(shapeOf(encode([0, 1, 'x', [new Map([[[1], 2]])]])), defaults)).toEqual({ limit: 'mapKey' });
    expect(checkOutgoing(encode([0, 1, 'x', [{ a: 1, b: [2, 3] }]]), defaults)).toBeUndefined();
  });
});
