/**
 * Encoding that leaves large binary payloads where they are. A message
 * carrying a big Uint8Array would otherwise be copied whole into the
 * encoder's buffer before the link copies it again into the kernel or a
 * shared-memory ring. Here the containers on the way to such a payload are
 * encoded by hand (MessagePack is concatenative: an array header followed by
 * its encoded elements is the encoded array), the payload itself becomes a
 * `bin 32` header followed by the caller's bytes as a part of their own, and
 * everything else is encoded by the shared codec. The parts, written back to
 * back, are exactly the bytes `encode` would produce... except that a bin
 * always uses the 32-bit header form, which every decoder reads alike.
 *
 * Only plain arrays and plain objects are looked into, at most
 * GATHER_MAX_DEPTH deep and GATHER_MAX_ENTRIES wide, so looking costs little
 * for the small messages that never need it.
 */
import type { Link } from '../link/link.js';
import { encode } from './codec.js';

/** Payloads from this size on are kept out of the encoder's buffer. */
export const GATHER_MIN_BYTES = 64 * 1024;
const GATHER_MAX_DEPTH = 4;
const GATHER_MAX_ENTRIES = 16;

/** An encoded frame in parts, written back to back; `length` is their sum. */
export class GatheredFrame {
  constructor(
    readonly parts: readonly Uint8Array[],
    readonly length: number,
  ) {}

  /** The frame in one buffer (for links that cannot write parts). */
  join(): Buffer {
    return Buffer.concat(this.parts as Uint8Array[], this.length);
  }
}

/** What a sender hands a link: one buffer, or parts. */
export type EncodedFrame = Buffer | GatheredFrame;

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isBinary(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && (value.constructor === Uint8Array || Buffer.isBuffer(value));
}

/** Whether `value` holds a large binary payload where gathering can reach it. */
function holdsLargeBinary(value: unknown, depth: number): boolean {
  if (isBinary(value)) return value.byteLength >= GATHER_MIN_BYTES;
  if (depth >= GATHER_MAX_DEPTH || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    if (value.length > GATHER_MAX_ENTRIES) return false;
    for (const item of value) if (holdsLargeBinary(item, depth + 1)) return true;
    return false;
  }
  if (!isPlainObject(value)) return false;
  let entries = 0;
  for (const key in value) {
    if (++entries > GATHER_MAX_ENTRIES) return false;
    if (holdsLargeBinary(value[key], depth + 1)) return true;
  }
  return false;
}

function header(small: number, code16: number, count: number): Buffer {
  if (count < 16) return Buffer.of(small | count);
  if (count < 0x10000) return Buffer.of(code16, count >> 8, count & 0xff);
  const bytes = Buffer.allocUnsafe(5);
  bytes[0] = code16 + 1; // array32 / map32 follow their 16-bit codes
  bytes.writeUInt32BE(count, 1);
  return bytes;
}

function gather(value: unknown, depth: number, parts: Uint8Array[]): void {
  if (isBinary(value) && value.byteLength >= GATHER_MIN_BYTES) {
    const bin = Buffer.allocUnsafe(5);
    bin[0] = 0xc6;
    bin.writeUInt32BE(value.byteLength, 1);
    parts.push(bin, value);
    return;
  }
  if (!holdsLargeBinary(value, depth)) {
    parts.push(encode(value));
    return;
  }
  if (Array.isArray(value)) {
    parts.push(header(0x90, 0xdc, value.length));
    for (const item of value) gather(item, depth + 1, parts);
    return;
  }
  // A plain object: a map of its enumerable own string keys, leaving out
  // undefined values as the codec does (skipValues).
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).filter((key) => object[key] !== undefined);
  parts.push(header(0x80, 0xde, keys.length));
  for (const key of keys) {
    parts.push(encode(key));
    gather(object[key], depth + 1, parts);
  }
}

/**
 * Encodes a message: one buffer as `encode` does, or, when it carries binary
 * payloads of GATHER_MIN_BYTES or more, a GatheredFrame whose parts include
 * those payloads themselves (not copies).
 */
export function encodeFrame(message: unknown): EncodedFrame {
  if (!holdsLargeBinary(message, 0)) return encode(message);
  const parts: Uint8Array[] = [];
  gather(message, 0, parts);
  let length = 0;
  for (const part of parts) length += part.byteLength;
  return new GatheredFrame(parts, length);
}

/** Encodes `message` for `link`: in parts only when the link can write parts. */
export function encodeFor(link: Link, message: unknown): EncodedFrame {
  return link.sendParts ? encodeFrame(message) : encode(message);
}

/**
 * Hands an encoded frame to `link`. With `lend`, the link may go on reading
 * the caller's payloads after this returns false, until its next `drain` (the
 * sender waits for it, or calls `link.copyLent` before giving them back);
 * without, the link keeps no reference to them once this returns.
 */
export function sendEncoded(link: Link, frame: EncodedFrame, lend = false): boolean {
  if (!(frame instanceof GatheredFrame)) return link.send(frame);
  if (!link.sendParts) return link.send(frame.join());
  const roomLeft = link.sendParts(frame.parts, frame.length);
  if (!roomLeft && !lend) link.copyLent?.();
  return roomLeft;
}
