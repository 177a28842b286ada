/**
 * Hand-made MessagePack bytes for hostile frames: headers with any count or
 * length (including ones no encoder would write), 64-bit integers, and the
 * procwire messages built around a raw part.
 */
import { encode } from 'procwire/link';

export type Bytes = Uint8Array;

export const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

export const cat = (...parts: Array<Bytes | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p))));

function be(value: number, bytes: 1 | 2 | 4): number[] {
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  return out;
}

export type Width = 'fix' | 8 | 16 | 32;

/** Header of an array claiming `count` elements, in the given form (default: the smallest). */
export function arrayHeader(count: number, width?: Width): Buffer {
  const w = width ?? (count < 16 ? 'fix' : count < 0x10000 ? 16 : 32);
  if (w === 'fix') return Buffer.from([0x90 | count]);
  return Buffer.from(w === 16 ? [0xdc, ...be(count, 2)] : [0xdd, ...be(count, 4)]);
}

export function mapHeader(count: number, width?: Width): Buffer {
  const w = width ?? (count < 16 ? 'fix' : count < 0x10000 ? 16 : 32);
  if (w === 'fix') return Buffer.from([0x80 | count]);
  return Buffer.from(w === 16 ? [0xde, ...be(count, 2)] : [0xdf, ...be(count, 4)]);
}

export function strHeader(length: number, width?: Width): Buffer {
  const w = width ?? (length < 32 ? 'fix' : length < 0x100 ? 8 : length < 0x10000 ? 16 : 32);
  if (w === 'fix') return Buffer.from([0xa0 | length]);
  if (w === 8) return Buffer.from([0xd9, length]);
  return Buffer.from(w === 16 ? [0xda, ...be(length, 2)] : [0xdb, ...be(length, 4)]);
}

export function binHeader(length: number, width?: Exclude<Width, 'fix'>): Buffer {
  const w = width ?? (length < 0x100 ? 8 : length < 0x10000 ? 16 : 32);
  if (w === 8) return Buffer.from([0xc4, length]);
  return Buffer.from(w === 16 ? [0xc5, ...be(length, 2)] : [0xc6, ...be(length, 4)]);
}

/** A str of raw bytes (valid UTF-8 or not). */
export const rawStr = (bytes: Bytes): Buffer => cat(strHeader(bytes.length), bytes);

export function uint64(value: bigint): Buffer {
  const out = Buffer.alloc(9);
  out[0] = 0xcf;
  out.writeBigUInt64BE(value, 1);
  return out;
}

export function int64(value: bigint): Buffer {
  const out = Buffer.alloc(9);
  out[0] = 0xd3;
  out.writeBigInt64BE(value, 1);
  return out;
}

/** The encoding of an ordinary value. */
export const mp = (value: unknown): Buffer => encode(value);

/** One key/value map written from raw parts: `map([[key, value], ...])`. */
export const rawMap = (entries: Array<[Bytes, Bytes]>): Buffer => cat(mapHeader(entries.length), ...entries.flat());

/** `[0, id, method, params]`, each part given raw. */
export const rawRequest = (id: Bytes, method: Bytes, params: Bytes): Buffer => cat([0x94, 0x00], id, method, params);

/** A request whose params array holds one raw argument. */
export const request = (id: number, method: string, argument: Bytes): Buffer => rawRequest(mp(id), mp(method), cat([0x91], argument));

export const rawStreamOpen = (id: Bytes, method: Bytes, params: Bytes, credit: Bytes): Buffer =>
  cat([0x95, 0x05], id, method, params, credit);

export const streamOpen = (id: number, method: string, argument: Bytes, credit = 64): Buffer =>
  rawStreamOpen(mp(id), mp(method), cat([0x91], argument), mp(credit));

export const HELLO = mp([3, { procwire: 1, channel: 'harden', version: 1 }]);

/** `depth` nested one-element arrays around `inner`: [[[...inner...]]]. */
export const nestedArrays = (depth: number, inner: Bytes = mp(null)): Buffer => cat(Buffer.alloc(depth, 0x91), inner);

/** `depth` nested one-entry maps {"k": {"k": ... inner}}. */
export const nestedMaps = (depth: number, inner: Bytes = mp(null)): Buffer =>
  cat(Buffer.concat(Array.from({ length: depth }, () => hex('81 a1 6b'))), inner);
