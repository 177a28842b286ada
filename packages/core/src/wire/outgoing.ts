/**
 * Checks a frame before it is sent against what its receiver will accept.
 * The receiver's FrameDelimiter enforces maxFrameBytes, maxDepth and
 * maxElements, and a stream link that meets a frame breaking them cannot
 * resynchronise: it drops the whole connection. msgpackr, for its part,
 * encodes a Map keyed by an array, a map, bytes or a Date, but cannot decode
 * one (map keys become property names), so such a frame would vanish at the
 * receiver. Either way one bad value would cost far more than its own call;
 * found here, it costs only that call, item or event.
 *
 * The walk reads the encoded bytes once with the delimiter's tables (str and
 * bin payloads are skipped by their length, never read), so it costs a small
 * fraction of encoding the same frame.
 */
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { GatheredFrame, type EncodedFrame } from './gather.js';
import type { FrameLimits } from './limits.js';

/** The largest maxDepth and maxElements a receiver can have (resolveFrameLimits' ranges). */
const MOST_DEPTH = 10_000;
const MOST_ELEMENTS = 100_000_000;
/** Elements left in each open container, innermost last; negative for a map, whose keys sit where an even number is left. */
const stack = new Int32Array(MOST_DEPTH + 1);

/** What a frame asks of its receiver. */
export interface FrameShape {
  readonly bytes: number;
  /** Deepest nesting of arrays and maps (the message array is 1); Infinity past any receiver's limit. */
  readonly depth: number;
  /** Array elements plus map keys and values; Infinity past any receiver's limit. */
  readonly elements: number;
  /** Holds a map key that is an array, a map, bytes or an extension: the receiver cannot decode it. */
  readonly undecodableKey: boolean;
}

/**
 * Header bytes (including the first) and kind per first byte, as in
 * FrameDelimiter: 0 scalar, 1 str, 2 bin, 3 ext, 4 array, 5 map.
 */
const HEADER = new Uint8Array(256);
const KIND = new Uint8Array(256);
(function buildTables() {
  const set = (from: number, to: number, kind: number, header: number) => {
    for (let b = from; b <= to; b++) {
      KIND[b] = kind;
      HEADER[b] = header;
    }
  };
  set(0x00, 0xff, 0, 1);
  set(0x80, 0x8f, 5, 1);
  set(0x90, 0x9f, 4, 1);
  set(0xa0, 0xbf, 1, 1);
  set(0xc4, 0xc4, 2, 2);
  set(0xc5, 0xc5, 2, 3);
  set(0xc6, 0xc6, 2, 5);
  set(0xc7, 0xc7, 3, 3);
  set(0xc8, 0xc8, 3, 4);
  set(0xc9, 0xc9, 3, 6);
  set(0xca, 0xca, 0, 5);
  set(0xcb, 0xcb, 0, 9);
  set(0xcc, 0xcc, 0, 2);
  set(0xcd, 0xcd, 0, 3);
  set(0xce, 0xce, 0, 5);
  set(0xcf, 0xcf, 0, 9);
  set(0xd0, 0xd0, 0, 2);
  set(0xd1, 0xd1, 0, 3);
  set(0xd2, 0xd2, 0, 5);
  set(0xd3, 0xd3, 0, 9);
  set(0xd4, 0xd8, 3, 2);
  set(0xd9, 0xd9, 1, 2);
  set(0xda, 0xda, 1, 3);
  set(0xdb, 0xdb, 1, 5);
  set(0xdc, 0xdc, 4, 3);
  set(0xdd, 0xdd, 4, 5);
  set(0xde, 0xde, 5, 3);
  set(0xdf, 0xdf, 5, 5);
})();
const FIXEXT_SIZE = [1, 2, 4, 8, 16];

function lengthAt(b: Uint8Array, at: number, width: number): number {
  if (width === 1) return b[at]!;
  if (width === 2) return (b[at]! << 8) | b[at + 1]!;
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

const OK = 0;
const TOO_DEEP = 1;
const TOO_WIDE = 2;
const BAD_KEY = 3;
type Walked = typeof OK | typeof TOO_DEEP | typeof TOO_WIDE | typeof BAD_KEY;
/** Depth and elements the last walk that came back OK measured. */
let walkedDepth = 0;
let walkedElements = 0;

/**
 * Walks an encoded frame (one buffer, or the parts of a gathered frame, in
 * which no header is ever split across parts) and stops at the first thing a
 * receiver with these depth and element limits would refuse. The encoder
 * wrote the frame, so it is well formed; only that is looked for.
 */
function walk(frame: EncodedFrame, maxDepth: number, maxElements: number): Walked {
  return walkParts(frame instanceof GatheredFrame ? frame.parts : [frame], maxDepth, maxElements);
}

function walkParts(parts: readonly Uint8Array[], maxDepth: number, maxElements: number): Walked {
  let depth = 0;
  let deepest = 0;
  let elements = 0;
  let skip = 0;
  for (let i = 0; i < parts.length; i++) {
    const b = parts[i]!;
    const end = b.length;
    let p = 0;
    if (skip > 0) {
      p = Math.min(skip, end);
      skip -= p;
    }
    while (p < end) {
      const first = b[p]!;
      const need = HEADER[first]!;
      const kind = KIND[first]!;
      // A map key (an even number of elements left in the innermost open map) must be a scalar or a str.
      if (kind > 1 && depth > 0 && stack[depth - 1]! < 0 && (stack[depth - 1]! & 1) === 0) return BAD_KEY;
      if (kind >= 4) {
        let count = need === 1 ? first & 0x0f : lengthAt(b, p + 1, need - 1);
        if (kind === 5) count *= 2;
        p += need;
        elements += count;
        if (elements > maxElements) return TOO_WIDE;
        // An empty array or map nests as deep as a full one.
        if (depth >= maxDepth) return TOO_DEEP;
        if (depth >= deepest) deepest = depth + 1;
        if (count > 0) {
          stack[depth++] = kind === 5 ? -count : count;
          continue;
        }
      } else {
        let payload = 0;
        if (kind === 1 || kind === 2) payload = need === 1 ? first & 0x1f : lengthAt(b, p + 1, need - 1);
        else if (kind === 3) payload = need === 2 ? FIXEXT_SIZE[first - 0xd4]! : lengthAt(b, p + 1, need - 2);
        p += need + payload;
        if (p > end) {
          skip = p - end;
          p = end;
        }
      }
      // One value ended: close every container it completed.
      while (depth > 0) {
        const open = stack[depth - 1]!;
        const left = open > 0 ? open - 1 : open + 1;
        if (left !== 0) {
          stack[depth - 1] = left;
          break;
        }
        depth--;
      }
    }
  }
  walkedDepth = deepest;
  walkedElements = elements;
  return OK;
}

/** What a frame asks of its receivers, for a frame sent to many (an event). */
export function shapeOf(frame: EncodedFrame): FrameShape {
  const walked = walk(frame, MOST_DEPTH, MOST_ELEMENTS);
  return {
    bytes: frame.length,
    depth: walked === OK ? walkedDepth : walked === TOO_DEEP ? Infinity : 0,
    elements: walked === OK ? walkedElements : walked === TOO_WIDE ? Infinity : 0,
    undecodableKey: walked === BAD_KEY,
  };
}

/** What stops a frame of this shape from reaching a receiver with these limits: a limit, or an undecodable key. */
export type Refusal = { readonly limit: keyof FrameLimits; readonly value: number } | { readonly limit: 'mapKey' };

export function refusalFor(shape: FrameShape, limits: FrameLimits): Refusal | undefined {
  if (shape.bytes > limits.maxFrameBytes) return { limit: 'maxFrameBytes', value: limits.maxFrameBytes };
  if (shape.depth > limits.maxDepth) return { limit: 'maxDepth', value: limits.maxDepth };
  if (shape.elements > limits.maxElements) return { limit: 'maxElements', value: limits.maxElements };
  if (shape.undecodableKey) return { limit: 'mapKey' };
  return undefined;
}

/** Whether one receiver with these limits takes the frame; a frame above maxFrameBytes is not walked. */
export function checkOutgoing(frame: EncodedFrame, limits: FrameLimits): Refusal | undefined {
  if (frame.length > limits.maxFrameBytes) return { limit: 'maxFrameBytes', value: limits.maxFrameBytes };
  switch (walk(frame, limits.maxDepth, limits.maxElements)) {
    case OK:
      return undefined;
    case TOO_DEEP:
      return { limit: 'maxDepth', value: limits.maxDepth };
    case TOO_WIDE:
      return { limit: 'maxElements', value: limits.maxElements };
    case BAD_KEY:
      return { limit: 'mapKey' };
  }
}

const UNDECODABLE_KEY = 'a Map key that is an object, array, Date or byte array (the receiver cannot decode it; use string or number keys)';

/**
 * The error for a refused frame. `what` names it ("request", "result of
 * calc.add", "stream item"); an undecodable key gets `keyCode`
 * (INVALID_ARGUMENT for the caller's input, HANDLER_ERROR for a handler's).
 */
export function refusalError(refusal: Refusal, what: string, bytes: number, keyCode: string): ProcwireError {
  switch (refusal.limit) {
    case 'mapKey':
      return new ProcwireError(keyCode, `${what} is not encodable: ${UNDECODABLE_KEY}`);
    case 'maxFrameBytes':
      return new ProcwireError(ErrorCode.FRAME_TOO_LARGE, `${what} of ${bytes} bytes exceeds maxFrameBytes (${refusal.value})`, {
        data: { limit: refusal.limit, value: refusal.value },
      });
    case 'maxDepth':
      return new ProcwireError(ErrorCode.FRAME_TOO_LARGE, `${what} nests deeper than the receiver's maxDepth (${refusal.value})`, {
        data: { limit: refusal.limit, value: refusal.value },
      });
    case 'maxElements':
      return new ProcwireError(
        ErrorCode.FRAME_TOO_LARGE,
        `${what} holds more than the receiver's maxElements (${refusal.value}) array elements and map entries`,
        { data: { limit: refusal.limit, value: refusal.value } },
      );
  }
}
