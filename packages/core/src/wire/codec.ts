import { Packr, type Options } from 'msgpackr';

/** msgpackr supports `skipValues` and `int64AsType: 'auto'`; its typings do not list them yet. */
type PackrOptions = Omit<Options, 'int64AsType'> & { skipValues?: unknown[]; int64AsType?: Options['int64AsType'] | 'auto' };

/**
 * The one MessagePack configuration procwire uses on both sides. Every option
 * that changes what crosses the wire is spelled out, because msgpackr's
 * defaults produce bytes foreign msgpack-rpc peers cannot read:
 * - useRecords: false — plain maps, never msgpackr's record extension;
 * - encodeUndefinedAsNil: true — `undefined` is nil, never extension 0
 *   (which Neovim reads as a Buffer handle);
 * - skipValues: [undefined] — an object property holding `undefined` is left
 *   out, so optional fields stay optional after the round trip;
 * - mapsAsObjects: true — maps decode to plain objects (msgpackr renames a
 *   `__proto__` key, so decoding cannot pollute prototypes);
 * - int64AsType: 'auto' — foreign encoders rightly use int64/uint64 for
 *   integers beyond 32 bits (a time in ms); those within ±2^53 decode as
 *   numbers, so `z.number()` accepts them; larger ones stay BigInt rather
 *   than silently losing precision.
 * Incoming frames have already passed FrameDelimiter (size, depth, element
 * and extension checks) when they reach `decode`.
 */
const options: PackrOptions = {
  useRecords: false,
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
  mapsAsObjects: true,
  int64AsType: 'auto',
  moreTypes: false,
  structuredClone: false,
};
const packr = new Packr(options as Options);

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

/**
 * Decodes every object in `source[start, end)` in one pass, calling `each`
 * with the value and the absolute end of its frame; `each` returns false to
 * stop. One pass lets msgpackr's native string extraction serve a whole run.
 */
export function decodeRun(source: Buffer, start: number, end: number, each: (value: unknown, frameEnd: number) => boolean): void {
  const run = start === 0 && end === source.length ? source : source.subarray(start, end);
  packr.unpackMultiple(run, (value: unknown, _from?: number, to?: number) => each(value, start + to!));
}

/** Decodes `source[start, end)`; defaults to the whole buffer. */
export function decode(source: Uint8Array, start = 0, end = source.length): unknown {
  return packr.unpack(source, { start, end });
}
