import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';

/**
 * Limits applied to every frame before any decoder sees it. All can be
 * lowered or raised per server and per client, up to the hard ceiling.
 */
export interface FrameLimits {
  /** Largest encoded frame in bytes. */
  readonly maxFrameBytes: number;
  /** Deepest nesting of arrays and maps (the message array itself is depth 1). */
  readonly maxDepth: number;
  /** Most array elements plus map entries (keys and values) in one frame. */
  readonly maxElements: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** No configuration can raise the frame size above this. */
export const HARD_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;
export const DEFAULT_MAX_ELEMENTS = 100_000;

export const DEFAULT_FRAME_LIMITS: FrameLimits = Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxDepth: DEFAULT_MAX_DEPTH,
  maxElements: DEFAULT_MAX_ELEMENTS,
});

/** Fills in defaults and rejects values outside the allowed range. */
export function resolveFrameLimits(partial: Partial<FrameLimits> = {}): FrameLimits {
  const limits = { ...DEFAULT_FRAME_LIMITS, ...stripUndefined(partial) };
  checkLimit('maxFrameBytes', limits.maxFrameBytes, 16, HARD_MAX_FRAME_BYTES);
  checkLimit('maxDepth', limits.maxDepth, 2, 10_000);
  checkLimit('maxElements', limits.maxElements, 4, 100_000_000);
  return Object.freeze(limits);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A limit given by the user: an integer in [min, max], else INVALID_ARGUMENT naming it. */
export function checkLimit(name: string, value: unknown, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer between ${min} and ${max} (got ${String(value)})`);
  }
  return value as number;
}

const RANGES: Record<keyof FrameLimits, readonly [number, number]> = {
  maxFrameBytes: [16, HARD_MAX_FRAME_BYTES],
  maxDepth: [2, 10_000],
  maxElements: [4, 100_000_000],
};

/**
 * The limits a peer announced in its HELLO. A field that is missing (a peer
 * from before the field existed) or outside its range means the default.
 */
export function announcedLimits(hello: Readonly<Record<string, unknown>>): FrameLimits {
  const pick = (name: keyof FrameLimits): number => {
    const value = hello[name];
    const [min, max] = RANGES[name];
    return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
      ? (value as number)
      : DEFAULT_FRAME_LIMITS[name];
  };
  return Object.freeze({ maxFrameBytes: pick('maxFrameBytes'), maxDepth: pick('maxDepth'), maxElements: pick('maxElements') });
}

/** What both of two receivers accept: the smaller of each limit. */
export function strictestLimits(a: FrameLimits, b: FrameLimits): FrameLimits {
  return Object.freeze({
    maxFrameBytes: Math.min(a.maxFrameBytes, b.maxFrameBytes),
    maxDepth: Math.min(a.maxDepth, b.maxDepth),
    maxElements: Math.min(a.maxElements, b.maxElements),
  });
}

/** The limits a link applies to what it receives; one that names only maxFrameBytes has the default depth and element limits. */
export function limitsOf(capabilities: {
  readonly maxFrameBytes: number;
  readonly maxDepth?: number;
  readonly maxElements?: number;
}): FrameLimits {
  return Object.freeze({
    maxFrameBytes: capabilities.maxFrameBytes,
    maxDepth: capabilities.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxElements: capabilities.maxElements ?? DEFAULT_MAX_ELEMENTS,
  });
}
