import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { ACCEPTED_EXTENSION_TYPES } from './constants.js';
import type { FrameLimits } from './limits.js';

/**
 * Finds where each MessagePack object ends in a byte stream, enforcing the
 * frame limits *before* any decoder runs. msgpack-rpc puts objects back to
 * back with no length prefix, so the only way to delimit a frame is to walk
 * its structure. The walk is incremental: state survives across chunks, so a
 * large frame arriving in many chunks is scanned once, and str/bin payloads
 * are skipped by length without being read. A length claim that would exceed
 * maxFrameBytes fails at once, without buffering anything.
 *
 * It also rejects what procwire never accepts from a peer: the reserved byte
 * 0xC1 and extension types other than the timestamp.
 */

/** How a header byte is read: what kind of value and how many header bytes it takes. */
const enum Kind {
  /** Complete value in the header (ints, floats, nil, bool). */
  Scalar,
  /** Payload length is in the header; payload follows (str, bin). */
  Bytes,
  /** Extension: length and type byte in the header; payload follows. */
  Ext,
  Array,
  Map,
  Invalid,
}

const KIND = new Uint8Array(256);
/** Header bytes per first byte, including the first byte. */
const HEADER = new Uint8Array(256);
(function buildTables() {
  const set = (from: number, to: number, kind: Kind, header: number) => {
    for (let b = from; b <= to; b++) {
      KIND[b] = kind;
      HEADER[b] = header;
    }
  };
  set(0x00, 0x7f, Kind.Scalar, 1); // positive fixint
  set(0x80, 0x8f, Kind.Map, 1); // fixmap
  set(0x90, 0x9f, Kind.Array, 1); // fixarray
  set(0xa0, 0xbf, Kind.Bytes, 1); // fixstr
  set(0xc0, 0xc0, Kind.Scalar, 1); // nil
  set(0xc1, 0xc1, Kind.Invalid, 1); // never used
  set(0xc2, 0xc3, Kind.Scalar, 1); // false, true
  set(0xc4, 0xc4, Kind.Bytes, 2); // bin8
  set(0xc5, 0xc5, Kind.Bytes, 3); // bin16
  set(0xc6, 0xc6, Kind.Bytes, 5); // bin32
  set(0xc7, 0xc7, Kind.Ext, 3); // ext8: len u8, type
  set(0xc8, 0xc8, Kind.Ext, 4); // ext16
  set(0xc9, 0xc9, Kind.Ext, 6); // ext32
  set(0xca, 0xca, Kind.Scalar, 5); // float32
  set(0xcb, 0xcb, Kind.Scalar, 9); // float64
  set(0xcc, 0xcc, Kind.Scalar, 2); // uint8
  set(0xcd, 0xcd, Kind.Scalar, 3);
  set(0xce, 0xce, Kind.Scalar, 5);
  set(0xcf, 0xcf, Kind.Scalar, 9); // uint64
  set(0xd0, 0xd0, Kind.Scalar, 2); // int8
  set(0xd1, 0xd1, Kind.Scalar, 3);
  set(0xd2, 0xd2, Kind.Scalar, 5);
  set(0xd3, 0xd3, Kind.Scalar, 9); // int64
  set(0xd4, 0xd8, Kind.Ext, 2); // fixext 1/2/4/8/16: type byte
  set(0xd9, 0xd9, Kind.Bytes, 2); // str8
  set(0xda, 0xda, Kind.Bytes, 3);
  set(0xdb, 0xdb, Kind.Bytes, 5); // str32
  set(0xdc, 0xdc, Kind.Array, 3); // array16
  set(0xdd, 0xdd, Kind.Array, 5);
  set(0xde, 0xde, Kind.Map, 3); // map16
  set(0xdf, 0xdf, Kind.Map, 5);
  set(0xe0, 0xff, Kind.Scalar, 1); // negative fixint
})();

/** Length encoded after the first header byte (big-endian, `width` bytes). */
function readLength(h: Uint8Array, at: number, width: number): number {
  if (width === 1) return h[at]!;
  if (width === 2) return (h[at]! << 8) | h[at + 1]!;
  return h[at]! * 0x1000000 + ((h[at + 1]! << 16) | (h[at + 2]! << 8) | h[at + 3]!);
}

const FIXEXT_SIZE = [1, 2, 4, 8, 16];

/** Payload length of the extension whose header starts at `at`; refuses types procwire does not accept. */
function extensionLength(h: Uint8Array, at: number, first: number, need: number): number {
  const fixed = need === 2;
  const type = h[at + need - 1]!;
  const signed = type > 127 ? type - 256 : type;
  if (!ACCEPTED_EXTENSION_TYPES.has(signed)) {
    throw new ProcwireError(ErrorCode.PROTOCOL, `msgpack extension type ${signed} is not accepted`);
  }
  return fixed ? FIXEXT_SIZE[first - 0xd4]! : readLength(h, at + 1, need - 2);
}

export type FrameSink = (frame: Buffer) => void;
/** Receives one frame as a range of `source` (no Buffer view is made for it). */
export type FrameRangeSink = (source: Buffer, start: number, end: number) => void;

export class FrameDelimiter {
  private readonly limits: FrameLimits;
  /** Pieces of the frame in progress that came in earlier chunks. */
  private pieces: Buffer[] = [];
  /** Bytes of the frame in progress seen so far. */
  private frameBytes = 0;
  /** Elements still expected in each open array/map, innermost last (slow path). */
  private readonly open: number[] = [];
  /** The same, for the fast path's walk inside one chunk. */
  private readonly stack: Float64Array;
  private elements = 0;
  /** Payload bytes of a str/bin/ext still to pass over. */
  private skip = 0;
  /** A header split across chunks is gathered here. */
  private readonly header = new Uint8Array(9);
  private headerHave = 0;
  private failed: ProcwireError | undefined;

  constructor(limits: FrameLimits) {
    this.limits = limits;
    this.stack = new Float64Array(limits.maxDepth + 1);
  }

  /** Bytes held for a frame that has not ended yet. */
  get bufferedBytes(): number {
    return this.frameBytes;
  }

  /** True when no partial frame is held. */
  get idle(): boolean {
    return this.frameBytes === 0;
  }

  /**
   * Feeds one chunk; calls `sink` once per complete frame, in order. Throws a
   * ProcwireError (PROTOCOL or FRAME_TOO_LARGE) when the stream breaks a rule;
   * the stream cannot be resynchronised after that, so the delimiter stays failed.
   */
  push(chunk: Buffer, sink: FrameSink): void {
    this.feed(chunk, (source, start, end) => sink(source.subarray(start, end)), false);
  }

  /**
   * As `push`, but hands over *runs*: each call covers one or more whole
   * frames lying back to back in `source[start, end)`. Decoding a run in one
   * go straight from the chunk saves a Buffer view and a DataView per frame,
   * and lets msgpackr's native string extraction work once per run instead of
   * once per frame: for small messages, more than half of the decoding cost.
   * Frames before a rule-breaking one are still handed over before the throw.
   */
  pushRuns(chunk: Buffer, sink: FrameRangeSink): void {
    this.feed(chunk, sink, true);
  }

  private feed(chunk: Buffer, sink: FrameRangeSink, runs: boolean): void {
    if (this.failed) throw this.failed;
    const end = chunk.length;
    let violation: unknown;
    let runStart = -1;
    let at = 0;
    try {
      if (!this.idle) at = this.scanSlow(chunk, 0, sink, true);
      while (at < end) {
        const frameEnd = this.findEnd(chunk, at, end);
        if (frameEnd < 0) break;
        if (!runs) sink(chunk, at, frameEnd);
        else if (runStart < 0) runStart = at;
        at = frameEnd;
      }
    } catch (error) {
      violation = error;
    }
    // Whole frames found before a violation are still handed over.
    if (runStart >= 0) sink(chunk, runStart, at);
    if (violation === undefined && at < end) {
      // The chunk ends inside a frame: the state machine keeps its place.
      try {
        this.scanSlow(chunk, at, sink, false);
      } catch (error) {
        violation = error;
      }
    }
    if (violation !== undefined) {
      this.failed = violation as ProcwireError;
      this.pieces = [];
      throw violation;
    }
  }

  /**
   * Fast path: the end of the frame that starts at `start`, if it is complete
   * within this chunk, else -1. Same checks as the state machine, with the
   * walk's state in locals.
   */
  private findEnd(c: Buffer, start: number, end: number): number {
    const { maxFrameBytes, maxDepth, maxElements } = this.limits;
    const limit = start + maxFrameBytes;
    const stack = this.stack;
    let depth = 0;
    let elements = 0;
    let p = start;
    for (;;) {
      if (p >= end) return -1;
      const first = c[p]!;
      const need = HEADER[first]!;
      if (p + need > end) return -1;
      let opened = false;
      switch (KIND[first] as Kind) {
        case Kind.Scalar:
          p += need;
          break;
        case Kind.Bytes:
          p += need + (need === 1 ? first & 0x1f : readLength(c, p + 1, need - 1));
          break;
        case Kind.Ext:
          p += need + extensionLength(c, p, first, need);
          break;
        case Kind.Array:
        case Kind.Map: {
          let count = need === 1 ? first & 0x0f : readLength(c, p + 1, need - 1);
          if (KIND[first] === Kind.Map) count *= 2;
          p += need;
          if (count > 0) {
            elements += count;
            if (elements > maxElements) this.tooManyElements();
            if (p + count > limit) this.tooLarge(p - start + count);
            if (depth >= maxDepth) this.tooDeep();
            stack[depth++] = count;
            opened = true;
          } else if (depth >= maxDepth) {
            // An empty array or map nests as deep as a full one.
            this.tooDeep();
          }
          break;
        }
        default:
          throw new ProcwireError(ErrorCode.PROTOCOL, 'msgpack byte 0xc1 (never used) in frame');
      }
      if (p > limit) this.tooLarge(p - start);
      if (opened) continue;
      while (depth > 0) {
        const left = stack[depth - 1]! - 1;
        if (left > 0) {
          stack[depth - 1] = left;
          break;
        }
        depth--;
      }
      if (depth === 0) return p <= end ? p : -1;
    }
  }

  /**
   * The state machine: survives chunk boundaries. Returns where it stopped:
   * after the first completed frame when `stopAfterFrame`, else at the end.
   */
  private scanSlow(chunk: Buffer, start: number, sink: FrameRangeSink, stopAfterFrame: boolean): number {
    const end = chunk.length;
    let i = start;
    let frameStart = start;
    while (i < end) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, end - i);
        i += take;
        this.skip -= take;
        this.frameBytes += take;
        if (this.skip > 0) break;
        if (this.valueDone()) {
          this.emit(chunk, frameStart, i, sink);
          if (stopAfterFrame) return i;
          frameStart = i;
        }
        continue;
      }
      // Read one header, possibly completing one split across chunks.
      let h: Uint8Array;
      let at: number;
      let first: number;
      let need: number;
      if (this.headerHave === 0) {
        first = chunk[i]!;
        need = HEADER[first]!;
        if (i + need <= end) {
          h = chunk;
          at = i;
          i += need;
        } else {
          this.header.set(chunk.subarray(i, end), 0);
          this.headerHave = end - i;
          this.frameBytes += end - i;
          i = end;
          break;
        }
      } else {
        first = this.header[0]!;
        need = HEADER[first]!;
        const take = Math.min(need - this.headerHave, end - i);
        this.header.set(chunk.subarray(i, i + take), this.headerHave);
        this.headerHave += take;
        this.frameBytes += take;
        i += take;
        if (this.headerHave < need) break;
        h = this.header;
        at = 0;
        this.frameBytes -= need; // counted again below with the whole header
        this.headerHave = 0;
      }
      this.frameBytes += need;
      // handleHeader checks the size, in the fast path's order (0xC1, extension
      // type, element count before size), so a stream fails alike however it is cut.
      if (this.handleHeader(h, at, first, need)) {
        this.emit(chunk, frameStart, i, sink);
        if (stopAfterFrame) return i;
        frameStart = i;
      }
    }
    if (this.frameBytes > 0 && frameStart < end) this.pieces.push(chunk.subarray(frameStart, end));
    return end;
  }

  /** Interprets one complete header; returns true when it completed the frame. */
  private handleHeader(h: Uint8Array, at: number, first: number, need: number): boolean {
    switch (KIND[first] as Kind) {
      case Kind.Scalar:
        if (this.frameBytes > this.limits.maxFrameBytes) this.tooLarge(this.frameBytes);
        return this.valueDone();
      case Kind.Bytes: {
        const len = need === 1 ? first & 0x1f : readLength(h, at + 1, need - 1);
        return this.startSkip(len);
      }
      case Kind.Ext:
        return this.startSkip(extensionLength(h, at, first, need));
      case Kind.Array:
      case Kind.Map: {
        let count = need === 1 ? first & 0x0f : readLength(h, at + 1, need - 1);
        if (KIND[first] === Kind.Map) count *= 2;
        if (count === 0) {
          if (this.open.length >= this.limits.maxDepth) this.tooDeep();
          if (this.frameBytes > this.limits.maxFrameBytes) this.tooLarge(this.frameBytes);
          return this.valueDone();
        }
        this.elements += count;
        if (this.elements > this.limits.maxElements) this.tooManyElements();
        // Every element takes at least one byte: an impossible count fails now.
        if (this.frameBytes + count > this.limits.maxFrameBytes) this.tooLarge(this.frameBytes + count);
        if (this.open.length >= this.limits.maxDepth) this.tooDeep();
        this.open.push(count);
        return false;
      }
      default:
        throw new ProcwireError(ErrorCode.PROTOCOL, 'msgpack byte 0xc1 (never used) in frame');
    }
  }

  private startSkip(len: number): boolean {
    if (this.frameBytes + len > this.limits.maxFrameBytes) this.tooLarge(this.frameBytes + len);
    if (len === 0) return this.valueDone();
    this.skip = len;
    return false;
  }

  /** One value ended: close every container it completed; true when the frame ended. */
  private valueDone(): boolean {
    const open = this.open;
    while (open.length > 0) {
      const left = open[open.length - 1]! - 1;
      if (left > 0) {
        open[open.length - 1] = left;
        return false;
      }
      open.pop();
    }
    return true;
  }

  private emit(chunk: Buffer, start: number, end: number, sink: FrameRangeSink): void {
    const bytes = this.frameBytes;
    this.frameBytes = 0;
    this.elements = 0;
    if (this.pieces.length === 0) return sink(chunk, start, end);
    this.pieces.push(chunk.subarray(start, end));
    const frame = Buffer.concat(this.pieces, bytes);
    this.pieces = [];
    sink(frame, 0, frame.length);
  }

  private tooManyElements(): never {
    throw new ProcwireError(
      ErrorCode.FRAME_TOO_LARGE,
      `frame declares more than maxElements (${this.limits.maxElements}) array elements and map entries`,
      { data: { limit: 'maxElements', value: this.limits.maxElements } },
    );
  }

  private tooDeep(): never {
    throw new ProcwireError(ErrorCode.FRAME_TOO_LARGE, `frame nests deeper than maxDepth (${this.limits.maxDepth})`, {
      data: { limit: 'maxDepth', value: this.limits.maxDepth },
    });
  }

  private tooLarge(claimed: number): never {
    throw new ProcwireError(
      ErrorCode.FRAME_TOO_LARGE,
      `frame of at least ${claimed} bytes exceeds maxFrameBytes (${this.limits.maxFrameBytes})`,
      { data: { limit: 'maxFrameBytes', value: this.limits.maxFrameBytes } },
    );
  }
}

/**
 * Checks that `frame` holds exactly one well-formed MessagePack object within
 * the limits. Used by links whose mechanism already preserves message
 * boundaries (message queues, shared memory), where no delimiting is needed
 * but the same structural checks are.
 */
export function checkFrame(frame: Buffer, limits: FrameLimits): void {
  if (frame.length === 0) throw new ProcwireError(ErrorCode.PROTOCOL, 'empty frame');
  if (frame.length > limits.maxFrameBytes) {
    throw new ProcwireError(ErrorCode.FRAME_TOO_LARGE, `frame of ${frame.length} bytes exceeds maxFrameBytes (${limits.maxFrameBytes})`, {
      data: { limit: 'maxFrameBytes', value: limits.maxFrameBytes },
    });
  }
  const delimiter = new FrameDelimiter(limits);
  let frames = 0;
  let length = 0;
  delimiter.push(frame, (f) => {
    frames++;
    length = f.length;
  });
  if (frames !== 1 || length !== frame.length || !delimiter.idle) {
    throw new ProcwireError(ErrorCode.PROTOCOL, 'frame does not hold exactly one complete msgpack object');
  }
}
