import { describe, expect, it } from 'vitest';
import { encode } from '../src/index.js';
import { decodeFrames } from '../src/wire/decodeFrames.js';

// A map whose key is an array: structurally fine, but msgpackr cannot make an object of it.
const undecodable = Buffer.from([0x81, 0x91, 0x01, 0x02]);

describe('decodeFrames', () => {
  it('decodes a run of frames in order', () => {
    const run = Buffer.concat([encode([1, 'a']), encode({ b: 2 }), encode('c')]);
    const got: unknown[] = [];
    decodeFrames(
      run,
      0,
      run.length,
      (m) => void got.push(m),
      () => expect.fail('nothing is undecodable'),
    );
    expect(got).toEqual([[1, 'a'], { b: 2 }, 'c']);
  });

  it('loses only the frame that cannot be decoded, and reports it', () => {
    const prefix = Buffer.from([0xff, 0xff]);
    const run = Buffer.concat([prefix, encode(['first']), undecodable, encode(['third']), undecodable, encode(['fifth'])]);
    const got: unknown[] = [];
    const errors: Error[] = [];
    decodeFrames(
      run,
      prefix.length,
      run.length,
      (m) => void got.push(m),
      (e) => errors.push(e),
    );
    expect(got).toEqual([['first'], ['third'], ['fifth']]);
    expect(errors).toHaveLength(2);
  });

  it('stops when the receiver says so', () => {
    const run = Buffer.concat([encode(1), encode(2), encode(3)]);
    const got: unknown[] = [];
    decodeFrames(
      run,
      0,
      run.length,
      (m) => (got.push(m), got.length < 2),
      () => {},
    );
    expect(got).toEqual([1, 2]);
  });

  it("lets the receiver's own exceptions through instead of treating them as bad frames", () => {
    const run = Buffer.concat([encode(1), encode(2)]);
    const undecodableCalls: Error[] = [];
    expect(() =>
      decodeFrames(
        run,
        0,
        run.length,
        () => {
          throw new Error('listener bug');
        },
        (e) => undecodableCalls.push(e),
      ),
    ).toThrow('listener bug');
    expect(undecodableCalls).toEqual([]);
  });
});
