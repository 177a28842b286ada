/**
 * peekMessage (src/wire/peek.ts) reads the type and msgid of a frame that
 * cannot be decoded, from its first bytes, in any integer form a foreign
 * encoder may use; anything that is not `[type, msgid, ...]` of that type's
 * length gives nothing.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../src/index.js';
import { peekMessage } from '../src/wire/peek.js';

const BAD = Buffer.from([0x81, 0x91, 0x01, 0x02]); // {[1]: 2}

/** [type, <id bytes>, ...fill, <undecodable>] with a fixarray header of `length`. */
function frame(length: number, type: number, id: number[], fill = length - 3): Buffer {
  return Buffer.concat([Buffer.from([0x90 | length, type, ...id]), ...Array.from({ length: fill }, () => encode(null)), BAD]);
}

describe('peekMessage', () => {
  it('reads the msgid in every integer form', () => {
    expect(peekMessage(frame(4, 1, [0x07]))).toEqual({ type: 1, id: 7 });
    expect(peekMessage(frame(4, 1, [0xcc, 0xff]))).toEqual({ type: 1, id: 255 });
    expect(peekMessage(frame(4, 0, [0xcd, 0x12, 0x34]))).toEqual({ type: 0, id: 0x1234 });
    expect(peekMessage(frame(3, 6, [0xce, 0xff, 0xff, 0xff, 0xff]))).toEqual({ type: 6, id: 0xffff_ffff });
    expect(peekMessage(frame(3, 7, [0xcf, 0, 0, 0, 0, 0, 0, 0, 9]))).toEqual({ type: 7, id: 9 });
    expect(peekMessage(frame(5, 5, [0xd2, 0, 0, 1, 0]))).toEqual({ type: 5, id: 256 });
    expect(peekMessage(Buffer.concat([Buffer.from([0xdc, 0, 4, 1, 3]), encode(null), BAD]))).toEqual({ type: 1, id: 3 });
  });

  it('gives nothing for what is not a message with a msgid', () => {
    expect(peekMessage(frame(4, 1, [0xd0, 0xff]))).toBeUndefined(); // -1
    expect(peekMessage(frame(4, 1, [0xcf, 0, 0, 0, 1, 0, 0, 0, 0]))).toBeUndefined(); // 2^32
    expect(peekMessage(frame(3, 1, [0x07]))).toBeUndefined(); // a response has 4 elements
    expect(peekMessage(frame(3, 2, [0x07]))).toBeUndefined(); // a notification has no msgid
    expect(peekMessage(frame(4, 1, [0xcb, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined(); // a float
    expect(peekMessage(BAD)).toBeUndefined();
    expect(peekMessage(Buffer.from([0x94, 0x01]))).toBeUndefined();
    expect(peekMessage(Buffer.alloc(0))).toBeUndefined();
  });
});
