/**
 * An independent reading of PROTOCOL.md sections 2.2 and 3, written as a
 * plain recursive walk over the whole input (no incremental state), so the
 * properties can compare FrameDelimiter and the codec against it rather than
 * against themselves.
 */
import type { FrameLimits } from '@procwire/core';

export type LimitName = 'maxFrameBytes' | 'maxDepth' | 'maxElements';

/** What the walk found wrong at the first header that breaks a rule. */
type Violation =
  | { readonly code: 'PROTOCOL'; readonly at: number }
  | { readonly code: 'FRAME_TOO_LARGE'; readonly at: number; readonly limits: readonly LimitName[] };

export interface ScanResult {
  /** [start, end) of every complete frame before the end or the first violation. */
  readonly frames: ReadonlyArray<readonly [number, number]>;
  /** How the input ends: between frames, inside one, or at a rule-breaking header. */
  readonly end: 'clean' | 'partial' | Violation;
}

/** Per frame: its measures and whether msgpackr can turn it into objects. */
export interface FrameMeasures {
  readonly bytes: number;
  /** Nesting of arrays and maps, empty ones included; the outermost is 1. */
  readonly depth: number;
  /** Array elements plus map keys and values. */
  readonly elements: number;
  /** A map key that is not a string, number, nil or boolean (msgpackr cannot make a property name of it). */
  readonly containerKey: boolean;
}

class Incomplete {}
class Broken {
  constructor(readonly violation: Violation) {}
}

interface Header {
  readonly kind: 'scalar' | 'bytes' | 'ext' | 'array' | 'map' | 'reserved';
  /** Header length including the first byte. */
  readonly size: number;
  /** Payload bytes (bytes/ext) or entries (array: elements, map: pairs). */
  readonly count: number;
  readonly extType?: number;
}

function uint(b: Uint8Array, at: number, width: number): number {
  let value = 0;
  for (let i = 0; i < width; i++) value = value * 256 + b[at + i]!;
  return value;
}

/** Reads the header at `at`; throws Incomplete when the input ends inside it. */
function readHeader(b: Uint8Array, at: number): Header {
  const need = (n: number) => {
    if (at + n > b.length) throw new Incomplete();
  };
  need(1);
  const first = b[at]!;
  if (first <= 0x7f || first >= 0xe0 || first === 0xc0 || first === 0xc2 || first === 0xc3) {
    return { kind: 'scalar', size: 1, count: 0 };
  }
  if (first >= 0x80 && first <= 0x8f) return { kind: 'map', size: 1, count: first & 0x0f };
  if (first >= 0x90 && first <= 0x9f) return { kind: 'array', size: 1, count: first & 0x0f };
  if (first >= 0xa0 && first <= 0xbf) return { kind: 'bytes', size: 1, count: first & 0x1f };
  if (first === 0xc1) return { kind: 'reserved', size: 1, count: 0 };
  const scalarSizes: Record<number, number> = { 0xca: 5, 0xcb: 9, 0xcc: 2, 0xcd: 3, 0xce: 5, 0xcf: 9, 0xd0: 2, 0xd1: 3, 0xd2: 5, 0xd3: 9 };
  if (scalarSizes[first] !== undefined) {
    need(scalarSizes[first]);
    return { kind: 'scalar', size: scalarSizes[first], count: 0 };
  }
  const lengthWidth: Record<number, number> = { 0xc4: 1, 0xc5: 2, 0xc6: 4, 0xd9: 1, 0xda: 2, 0xdb: 4 };
  if (lengthWidth[first] !== undefined) {
    const w = lengthWidth[first];
    need(1 + w);
    return { kind: 'bytes', size: 1 + w, count: uint(b, at + 1, w) };
  }
  if (first >= 0xd4 && first <= 0xd8) {
    need(2);
    return { kind: 'ext', size: 2, count: 2 ** (first - 0xd4), extType: (b[at + 1]! << 24) >> 24 };
  }
  if (first >= 0xc7 && first <= 0xc9) {
    const w = 2 ** (first - 0xc7);
    need(2 + w);
    return { kind: 'ext', size: 2 + w, count: uint(b, at + 1, w), extType: (b[at + 1 + w]! << 24) >> 24 };
  }
  const w = first === 0xdc || first === 0xde ? 2 : 4;
  need(1 + w);
  return { kind: first === 0xdc || first === 0xdd ? 'array' : 'map', size: 1 + w, count: uint(b, at + 1, w) };
}

interface FrameWalk {
  readonly start: number;
  elements: number;
  depth: number;
  containerKey: boolean;
}

/**
 * Walks the value at `at` (nested `level` containers deep: 0 for the frame
 * itself); returns where it ends. `limits` absent: measure only.
 */
function walkValue(b: Uint8Array, at: number, level: number, walk: FrameWalk, limits: FrameLimits | undefined, isKey: boolean): number {
  const h = readHeader(b, at);
  const afterHeader = at + h.size;
  const used = (end: number) => end - walk.start;
  const tooLarge = (...names: LimitName[]): never => {
    throw new Broken({ code: 'FRAME_TOO_LARGE', at, limits: names });
  };
  if (isKey && (h.kind === 'array' || h.kind === 'map' || h.kind === 'ext' || (h.kind === 'bytes' && isBin(b[at]!)))) {
    walk.containerKey = true;
  }
  switch (h.kind) {
    case 'reserved':
      throw new Broken({ code: 'PROTOCOL', at });
    case 'scalar':
      if (limits && used(afterHeader) > limits.maxFrameBytes) tooLarge('maxFrameBytes');
      if (afterHeader > b.length) throw new Incomplete();
      return afterHeader;
    case 'ext':
      if (h.extType !== -1) throw new Broken({ code: 'PROTOCOL', at });
    // falls through: an accepted extension is bounded like a str or bin
    case 'bytes': {
      const end = afterHeader + h.count;
      if (limits && used(end) > limits.maxFrameBytes) tooLarge('maxFrameBytes');
      if (end > b.length) throw new Incomplete();
      return end;
    }
    case 'array':
    case 'map': {
      const slots = h.kind === 'map' ? h.count * 2 : h.count;
      walk.elements += slots;
      walk.depth = Math.max(walk.depth, level + 1);
      if (limits) {
        // Every rule this header breaks; which one an implementation names first is its own choice.
        const broken: LimitName[] = [];
        if (walk.elements > limits.maxElements) broken.push('maxElements');
        if (used(afterHeader) + slots > limits.maxFrameBytes) broken.push('maxFrameBytes');
        if (level + 1 > limits.maxDepth) broken.push('maxDepth');
        if (broken.length > 0) tooLarge(...broken);
      }
      let p = afterHeader;
      for (let i = 0; i < slots; i++) p = walkValue(b, p, level + 1, walk, limits, h.kind === 'map' && i % 2 === 0);
      return p;
    }
  }
}

function isBin(first: number): boolean {
  return first >= 0xc4 && first <= 0xc6;
}

/** The frames a correct delimiter finds in `bytes`, and how the input ends. */
export function referenceScan(bytes: Uint8Array, limits: FrameLimits): ScanResult {
  const frames: Array<[number, number]> = [];
  let at = 0;
  while (at < bytes.length) {
    const walk: FrameWalk = { start: at, elements: 0, depth: 0, containerKey: false };
    try {
      const end = walkValue(bytes, at, 0, walk, limits, false);
      frames.push([at, end]);
      at = end;
    } catch (error) {
      if (error instanceof Incomplete) return { frames, end: 'partial' };
      if (error instanceof Broken) return { frames, end: error.violation };
      throw error;
    }
  }
  return { frames, end: 'clean' };
}

/** Measures one complete frame (no limits applied). */
export function measureFrame(frame: Uint8Array): FrameMeasures {
  const walk: FrameWalk = { start: 0, elements: 0, depth: 0, containerKey: false };
  const end = walkValue(frame, 0, 0, walk, undefined, false);
  if (end !== frame.length) throw new Error(`measureFrame: ${frame.length - end} bytes after the value`);
  return { bytes: frame.length, depth: walk.depth, elements: walk.elements, containerKey: walk.containerKey };
}

// ------------------------------------------------------------- the codec

const TWO_53 = 2n ** 53n;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * What `decode(encode(value))` must give, by PROTOCOL.md section 3:
 * undefined is nil (left out of maps), -0 is 0, bigints within ±2^53 are
 * numbers, strings are well-formed UTF-16 (lone surrogates were U+FFFD on the
 * wire), a `__proto__` key arrives as `__proto_`, dates keep their
 * milliseconds.
 */
export function expectedDecoding(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (typeof value === 'bigint') return value >= -TWO_53 && value <= TWO_53 ? Number(value) : value;
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\ufffd');
  if (typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(expectedDecoding);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    Object.defineProperty(out, key === '__proto__' ? '__proto_' : key, {
      value: expectedDecoding(item),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * A canonical text of a decoded value: equal texts mean equal values, with
 * NaN equal to itself, bytes compared as bytes whatever their class, and map
 * keys in sorted order.
 */
export function canonical(value: unknown): string {
  if (value === null) return 'nil';
  if (typeof value === 'number') return Object.is(value, -0) ? 'n:-0' : `n:${value}`;
  if (typeof value === 'bigint') return `i:${value}`;
  if (typeof value === 'string') return `s:${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return `b:${value}`;
  if (value instanceof Uint8Array) return `x:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  if (value instanceof Date) return `d:${value.getTime()}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    const tag = proto === Object.prototype ? '' : proto === null ? 'null-proto' : 'other-proto';
    const keys = Object.keys(value).sort();
    return `${tag}{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return `?${typeof value}`;
}
