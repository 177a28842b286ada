/**
 * Properties of the frame delimiter (FrameDelimiter, checkFrame) against an
 * independent reference walk of PROTOCOL.md 2.2, and of the codec's round
 * trip against section 3. Seeds are fixed (seeds.ts); counterexamples found
 * once are replayed from regressions.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFrame, decode, DEFAULT_FRAME_LIMITS, encode, ErrorCode, resolveFrameLimits, type FrameLimits } from '@procwire/core';
import { chunking, cut, frameLimits, hostileStream, nearValidStream, wireValue, type Chunking } from './arbitraries.ts';
import { codeOf, delimit, limitOf, outcomeText } from './delimit.ts';
import { canonical, expectedDecoding, measureFrame, referenceScan, type LimitName } from './msgpackModel.ts';
import { delimiterRegressions } from './regressions.ts';
import { checkProperty, PROPERTY_TIMEOUT_MS, titleOf, type PropertyPlan } from './seeds.ts';

const FRAMING_CODES: readonly string[] = [ErrorCode.PROTOCOL, ErrorCode.FRAME_TOO_LARGE];
/** The longest MessagePack header: float64, int64 and uint64 (type byte and 8 bytes). */
const MAX_HEADER_BYTES = 9;

/** Any byte stream a peer could send: random bytes, valid frames slightly broken, hostile headers. */
const anyStream: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  nearValidStream,
  hostileStream,
);

function withinLimits(frame: Buffer, limits: FrameLimits): string | undefined {
  const m = measureFrame(frame);
  if (m.bytes > limits.maxFrameBytes) return `frame of ${m.bytes} bytes > maxFrameBytes ${limits.maxFrameBytes}`;
  if (m.depth > limits.maxDepth) return `frame nested ${m.depth} deep > maxDepth ${limits.maxDepth}`;
  if (m.elements > limits.maxElements) return `frame of ${m.elements} elements > maxElements ${limits.maxElements}`;
  return undefined;
}

const roundTrip: PropertyPlan = {
  name: 'delimiter: N values split anywhere arrive as N frames decoding to the same values',
  offset: 1,
  numRuns: 250,
};
const hostile: PropertyPlan = {
  name: 'delimiter: arbitrary and near-valid bytes give checked frames or PROTOCOL/FRAME_TOO_LARGE',
  offset: 2,
  numRuns: 1500,
};
const chunkFree: PropertyPlan = { name: 'delimiter: same frames and same error for every chunking', offset: 3, numRuns: 600 };
const overLimit: PropertyPlan = {
  name: 'delimiter: a value one over a limit is refused with FRAME_TOO_LARGE naming it',
  offset: 4,
  numRuns: 400,
};
const single: PropertyPlan = { name: 'checkFrame: passes exactly one whole frame within the limits', offset: 5, numRuns: 1000 };

describe('frame delimiter properties', () => {
  it(
    titleOf(roundTrip),
    async () => {
      await checkProperty(
        roundTrip,
        fc.property(fc.array(wireValue, { minLength: 1, maxLength: 8 }), chunking, (values, how) => {
          const encoded = values.map((v) => encode(v));
          const stream = Buffer.concat(encoded);
          const out = delimit(cut(stream, how), DEFAULT_FRAME_LIMITS);
          expect(codeOf(out.error)).toBe('none');
          expect(out.buffered).toBe(0);
          expect(out.frames.map((f) => f.toString('hex'))).toEqual(encoded.map((f) => f.toString('hex')));
          expect(out.runBytes.equals(stream)).toBe(true);
          out.frames.forEach((frame, i) => {
            expect(canonical(decode(frame))).toBe(canonical(expectedDecoding(values[i])));
          });
        }),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    titleOf(hostile),
    async () => {
      await checkProperty(
        hostile,
        fc.property(anyStream, frameLimits, chunking, (stream, limits, how) => {
          const out = delimit(cut(stream, how), limits);
          const reference = referenceScan(stream, limits);
          expect(FRAMING_CODES.concat('none')).toContain(codeOf(out.error));
          for (const frame of out.frames) {
            expect(withinLimits(frame, limits)).toBeUndefined();
            expect(() => checkFrame(frame, limits)).not.toThrow();
            // msgpackr makes objects of maps, so a map keyed by an array, map, bin or
            // timestamp cannot be decoded (PROTOCOL.md 3: the message is dropped); all else must.
            let decodeError: unknown;
            try {
              decode(frame);
            } catch (error) {
              decodeError = error;
            }
            expect({ frame: frame.toString('hex'), throws: decodeError !== undefined }).toEqual({
              frame: frame.toString('hex'),
              throws: measureFrame(frame).containerKey,
            });
          }
          expect(out.frames.map((f) => f.toString('hex'))).toEqual(reference.frames.map(([s, e]) => stream.subarray(s, e).toString('hex')));
          expect(out.runBytes.equals(Buffer.concat(out.frames))).toBe(true);
          const end = reference.end;
          if (end === 'clean') {
            expect(codeOf(out.error)).toBe('none');
            expect(out.buffered).toBe(0);
          } else if (end === 'partial') {
            expect(codeOf(out.error)).toBe('none');
            const lastEnd = reference.frames.at(-1)?.[1] ?? 0;
            expect(out.buffered).toBe(stream.length - lastEnd);
            // Beyond the limit it may hold only the rest of one header (9 bytes at most): which
            // error that header makes (size, element count, extension type) is known once it is whole,
            // and waiting for it is what keeps the error the same however the stream is cut.
            expect(out.buffered).toBeLessThanOrEqual(limits.maxFrameBytes + MAX_HEADER_BYTES - 1);
          } else {
            expect(codeOf(out.error)).toBe(end.code);
            if (end.code === 'FRAME_TOO_LARGE') expect(end.limits).toContain(limitOf(out.error));
          }
        }),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    titleOf(chunkFree),
    async () => {
      await checkProperty(
        chunkFree,
        fc.property(anyStream, frameLimits, chunking, chunking, (stream, limits, a, b) => {
          const whole = outcomeText(delimit([stream], limits));
          const ways: Chunking[] = [a, b, { kind: 'bytewise' }];
          for (const how of ways) expect(outcomeText(delimit(cut(stream, how), limits))).toBe(whole);
        }),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    titleOf(overLimit),
    async () => {
      await checkProperty(
        overLimit,
        fc.property(
          fc.array(wireValue, { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 0, max: 5 }),
          fc.nat(),
          fc.nat(),
          chunking,
          (items, wraps, pickLimit, pickValue, how) => {
            let value: unknown = items;
            for (let i = 0; i < wraps; i++) value = [value];
            const frame = encode(value);
            const m = measureFrame(frame);
            const exact = { maxFrameBytes: Math.max(16, m.bytes), maxDepth: Math.max(2, m.depth), maxElements: Math.max(4, m.elements) };
            // Limits exactly at the value's measures let it through...
            expect(() => checkFrame(frame, resolveFrameLimits(exact))).not.toThrow();
            // ...and one limit set below its measure refuses it, naming that limit.
            const floors: Record<LimitName, number> = { maxFrameBytes: 16, maxDepth: 2, maxElements: 4 };
            const measures: Record<LimitName, number> = { maxFrameBytes: m.bytes, maxDepth: m.depth, maxElements: m.elements };
            const breakable = (Object.keys(floors) as LimitName[]).filter((name) => measures[name] > floors[name]);
            fc.pre(breakable.length > 0);
            const name = breakable[pickLimit % breakable.length]!;
            const tight = floors[name] + (pickValue % (measures[name] - floors[name]));
            const limits = resolveFrameLimits({ ...exact, [name]: tight });
            let thrown: unknown;
            try {
              checkFrame(frame, limits);
            } catch (error) {
              thrown = error;
            }
            expect(codeOf(thrown)).toBe(ErrorCode.FRAME_TOO_LARGE);
            expect(limitOf(thrown)).toBe(name);
            expect((thrown as Error).message).toContain(name);
            // The same through the stream delimiter, after a valid frame, however it is cut.
            const lead = encode([0]);
            const out = delimit(cut(Buffer.concat([lead, frame]), how), limits);
            expect(out.frames.map((f) => f.toString('hex'))).toEqual([lead.toString('hex')]);
            expect(codeOf(out.error)).toBe(ErrorCode.FRAME_TOO_LARGE);
            expect(limitOf(out.error)).toBe(name);
          },
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    titleOf(single),
    async () => {
      await checkProperty(
        single,
        fc.property(
          fc.oneof(
            anyStream,
            wireValue.map((v) => encode(v)),
          ),
          frameLimits,
          (frame, limits) => {
            let thrown: unknown;
            try {
              checkFrame(frame, limits);
            } catch (error) {
              thrown = error;
            }
            const reference = referenceScan(frame, limits);
            const one = reference.end === 'clean' && reference.frames.length === 1;
            let expected: string;
            if (frame.length > limits.maxFrameBytes) expected = ErrorCode.FRAME_TOO_LARGE;
            else if (typeof reference.end === 'object') expected = reference.end.code;
            else expected = one ? 'none' : ErrorCode.PROTOCOL;
            expect(codeOf(thrown)).toBe(expected);
          },
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe('frame delimiter regressions (counterexamples found by the properties)', () => {
  /** The stream whole, byte by byte, and cut in two at every position. */
  function everyCut(stream: Buffer): Buffer[][] {
    const ways = [[stream], cut(stream, { kind: 'bytewise' })];
    for (let at = 1; at < stream.length; at++) ways.push([stream.subarray(0, at), stream.subarray(at)]);
    return ways;
  }

  it.each(delimiterRegressions.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    const stream = Buffer.from(r.hex, 'hex');
    const limits = resolveFrameLimits(r.limits);
    const whole = delimit([stream], limits);
    expect(whole.frames).toHaveLength(r.frames);
    if (r.outcome === 'ok') expect(codeOf(whole.error)).toBe('none');
    else if (r.outcome === 'PROTOCOL') expect(codeOf(whole.error)).toBe(ErrorCode.PROTOCOL);
    else {
      expect(codeOf(whole.error)).toBe(r.outcome.code);
      expect(limitOf(whole.error)).toBe(r.outcome.limit);
    }
    for (const pieces of everyCut(stream)) expect(outcomeText(delimit(pieces, limits))).toBe(outcomeText(whole));
  });
});
