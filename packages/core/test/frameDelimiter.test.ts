import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFrame, encode, FrameDelimiter, ProcwireError, resolveFrameLimits } from '../src/index.js';

const limits = resolveFrameLimits();

function split(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    pieces.push(stream.subarray(at, p));
    at = p;
  }
  pieces.push(stream.subarray(at));
  return pieces;
}

function delimit(pieces: Buffer[], l = limits): Buffer[] {
  const d = new FrameDelimiter(l);
  const out: Buffer[] = [];
  for (const piece of pieces) d.push(piece, (f) => out.push(Buffer.from(f)));
  return out;
}

function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProcwireError);
    return (error as ProcwireError).code;
  }
  return 'NO ERROR';
}

// Values msgpack can carry without extensions.
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 300 }),
    fc.string({ minLength: 40, maxLength: 70_000 }),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 20 }),
    fc.dictionary(fc.string(), tie('node'), { maxKeys: 10 }),
  ),
})).node;

describe('FrameDelimiter', () => {
  it('finds every frame whatever the chunking (property, seed recorded)', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), (values, cuts) => {
        const frames = values.map((v) => encode(v));
        const stream = Buffer.concat(frames);
        const out = delimit(split(stream, cuts));
        expect(out.length).toBe(frames.length);
        out.forEach((f, i) => expect(Buffer.compare(f, frames[i]!)).toBe(0));
      }),
      { seed: 20261125, numRuns: 300 },
    );
  });

  it('handles 1-byte writes and a thousand frames in one write', () => {
    const frames = Array.from({ length: 1000 }, (_, i) => encode([0, i, 'calc.add', [{ a: i, b: 2 }]]));
    const stream = Buffer.concat(frames);
    expect(delimit([stream]).length).toBe(1000);
    const bytes = [...stream.subarray(0, 5000)].map((b) => Buffer.from([b]));
    const fromBytes = delimit(bytes);
    expect(fromBytes.length).toBeGreaterThan(100);
    fromBytes.forEach((f, i) => expect(Buffer.compare(f, frames[i]!)).toBe(0));
  });

  it('fails at once on length claims above the limit, without buffering', () => {
    const d = new FrameDelimiter(limits);
    // str32 claiming 4 GiB, then array32 of 2^32-1 elements, then bin32 of 2^32-1.
    for (const header of [
      [0xdb, 0xff, 0xff, 0xff, 0xff],
      [0xdd, 0xff, 0xff, 0xff, 0xff],
      [0xc6, 0xff, 0xff, 0xff, 0xff],
    ]) {
      expect(thrownCode(() => new FrameDelimiter(limits).push(Buffer.from(header), () => {}))).toBe('FRAME_TOO_LARGE');
    }
    expect(d.bufferedBytes).toBe(0);
  });

  it('bounds nesting depth and element counts', () => {
    expect(thrownCode(() => delimit([Buffer.alloc(200_000, 0x91)]))).toBe('FRAME_TOO_LARGE');
    const deep64 = Buffer.concat([Buffer.alloc(63, 0x91), Buffer.from([0x90])]);
    expect(delimit([deep64]).length).toBe(1);
    const wide = encode(Array.from({ length: 100_001 }, () => 0));
    expect(thrownCode(() => delimit([wide]))).toBe('FRAME_TOO_LARGE');
  });

  it('rejects 0xc1 and extension types other than the timestamp', () => {
    expect(thrownCode(() => delimit([Buffer.from([0x91, 0xc1])]))).toBe('PROTOCOL');
    expect(thrownCode(() => delimit([Buffer.from([0xd4, 0x72, 0x00])]))).toBe('PROTOCOL'); // msgpackr record
    expect(thrownCode(() => delimit([Buffer.from([0xd4, 0x00, 0x00])]))).toBe('PROTOCOL'); // ext 0
    expect(delimit([encode(new Date(0))]).length).toBe(1); // timestamp -1 is accepted
  });

  it('stays failed after an error (a byte stream cannot be resynchronised)', () => {
    const d = new FrameDelimiter(limits);
    expect(thrownCode(() => d.push(Buffer.from([0xc1]), () => {}))).toBe('PROTOCOL');
    expect(thrownCode(() => d.push(encode(1), () => {}))).toBe('PROTOCOL');
  });

  it('checkFrame accepts exactly one complete object', () => {
    expect(() => checkFrame(encode([1, 2, 3]), limits)).not.toThrow();
    expect(thrownCode(() => checkFrame(Buffer.concat([encode(1), encode(2)]), limits))).toBe('PROTOCOL');
    expect(thrownCode(() => checkFrame(encode([1, 2, 3]).subarray(0, 2), limits))).toBe('PROTOCOL');
    expect(thrownCode(() => checkFrame(Buffer.alloc(0), limits))).toBe('PROTOCOL');
  });

  it('survives a mutation sweep over a valid frame: every byte set to every interesting value', () => {
    const frame = encode([0, 7, 'calc.add', [{ a: 1, b: 'two', c: new Uint8Array(20), d: [1, 2, [3]] }]]);
    for (let i = 0; i < frame.length; i++) {
      for (const b of [0x00, 0x7f, 0x80, 0x90, 0xc1, 0xc6, 0xc9, 0xd4, 0xdb, 0xdd, 0xdf, 0xff]) {
        const mutated = Buffer.from(frame);
        mutated[i] = b;
        const d = new FrameDelimiter(resolveFrameLimits({ maxFrameBytes: 4096 }));
        try {
          d.push(mutated, () => {});
        } catch (error) {
          expect(error).toBeInstanceOf(ProcwireError);
        }
        expect(d.bufferedBytes).toBeLessThanOrEqual(4096);
      }
    }
  });

  it('the one-chunk fast path and the byte-by-byte state machine agree on every mutated frame', () => {
    const frames = [
      encode([0, 7, 'calc.add', [{ a: 1, b: 'two', c: new Uint8Array(20), d: [1, 2, [3]] }]]),
      encode([2, 'calc.tick', [{ n: 1.5, when: new Date(0), big: 'x'.repeat(300) }]]),
    ];
    const l = resolveFrameLimits({ maxFrameBytes: 512, maxDepth: 4, maxElements: 40 });
    const outcome = (pieces: Buffer[]) => {
      const d = new FrameDelimiter(l);
      const found: string[] = [];
      try {
        for (const piece of pieces) d.push(piece, (f) => found.push(f.toString('hex')));
      } catch (error) {
        return `${(error as ProcwireError).code} after ${found.length}`;
      }
      return `${found.join('|')} rest ${d.bufferedBytes}`;
    };
    for (const frame of frames) {
      for (let i = 0; i < frame.length; i++) {
        for (const b of [0x00, 0x0f, 0x7f, 0x80, 0x8f, 0x9f, 0xbf, 0xc1, 0xc4, 0xc7, 0xcb, 0xd4, 0xd8, 0xda, 0xdc, 0xdf, 0xff]) {
          const mutated = Buffer.from(frame);
          mutated[i] = b;
          const stream = Buffer.concat([mutated, frame]);
          const whole = outcome([stream]);
          const bytewise = outcome([...stream].map((x) => Buffer.from([x])));
          expect(bytewise).toBe(whole);
        }
      }
    }
  });
});
