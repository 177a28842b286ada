/**
 * Gathered encoding (src/wire/gather.ts): a message with large binary
 * payloads is encoded in parts whose concatenation decodes exactly as the
 * plain encoding does, with the payloads themselves (not copies) as parts.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../src/index.js';
import { encodeFrame, GatheredFrame, GATHER_MIN_BYTES } from '../src/wire/gather.js';

const big = (n = GATHER_MIN_BYTES, fill = 7) => new Uint8Array(n).fill(fill);

function joined(frame: ReturnType<typeof encodeFrame>): Buffer {
  return frame instanceof GatheredFrame ? frame.join() : frame;
}

describe('encodeFrame', () => {
  it('encodes small messages exactly as encode does', () => {
    for (const message of [[0, 1, 'calc.add', [{ a: 1, b: 2 }]], [1, 2, null, new Uint8Array(GATHER_MIN_BYTES - 1)], 'x', null]) {
      const frame = encodeFrame(message);
      expect(frame).toBeInstanceOf(Buffer);
      expect(Buffer.compare(frame as Buffer, encode(message))).toBe(0);
    }
  });

  it('keeps large payloads as parts of their own, and decodes to the same value', () => {
    const payload = big();
    const buffer = Buffer.from(big(GATHER_MIN_BYTES * 2, 9));
    const messages = [
      [1, 7, null, payload],
      [0, 8, 'files.put', [{ name: 'a', data: payload, skipped: undefined, meta: { n: 1, tags: ['x'] } }]],
      [4, 3, [payload, 'between', buffer, 1.5, -2, 2 ** 40]],
      [2, 'ev', [{ nested: [buffer] }]],
      [0, 9, 'm', [Object.assign(Object.create(null), { data: payload })]],
    ];
    for (const message of messages) {
      const frame = encodeFrame(message);
      expect(frame).toBeInstanceOf(GatheredFrame);
      const parts = (frame as GatheredFrame).parts;
      expect(parts.some((part) => part === payload || part === buffer)).toBe(true);
      expect(frame.length).toBe(parts.reduce((n, p) => n + p.byteLength, 0));
      expect(decode(joined(frame))).toEqual(decode(encode(message)));
    }
  });

  it('uses the plain encoding where gathering would have to look too far', () => {
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i === 19 ? big() : i]));
    const deep = [[[[[big()]]]]];
    class Holder {
      data = big();
    }
    for (const message of [[2, 'ev', [wide]], deep, [2, 'ev', [new Holder()]], [2, 'ev', [new Uint16Array(GATHER_MIN_BYTES)]]]) {
      const frame = encodeFrame(message);
      expect(frame).toBeInstanceOf(Buffer);
      expect(decode(frame as Buffer)).toEqual(decode(encode(message)));
    }
  });

  it('writes map and array headers of every size class', () => {
    for (const count of [3, 15, 16]) {
      const items: unknown[] = Array.from({ length: count }, (_, i) => i);
      items[count - 1] = big();
      expect(decode(joined(encodeFrame(items)))).toEqual(decode(encode(items)));
      const object = Object.fromEntries(items.map((item, i) => [`k${i}`, item]));
      expect(decode(joined(encodeFrame(object)))).toEqual(decode(encode(object)));
    }
  });
});
