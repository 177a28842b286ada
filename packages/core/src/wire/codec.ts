import { Packr, type Options } from 'msgpackr';

/** msgpackr supports `skipValues` but its typings do not list it yet. */
type PackrOptions = Options & { skipValues?: unknown[] };

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
 *   `__proto__` key, so decoding cannot pollute prototypes).
 * Incoming frames have already passed FrameDelimiter (size, depth, element
 * and extension checks) when they reach `decode`.
 */
const options: PackrOptions = {
  useRecords: false,
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
  mapsAsObjects: true,
  moreTypes: false,
  structuredClone: false,
};
const packr = new Packr(options);

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode(frame: Uint8Array): unknown {
  return packr.unpack(frame);
}
