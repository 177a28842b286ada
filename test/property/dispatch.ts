/**
 * What the dispatcher properties watch besides the messages: exceptions
 * that escape to the process, and the built-in prototypes a decoded
 * `__proto__` key could reach.
 */
import { decode, FrameDelimiter, resolveFrameLimits, HARD_MAX_FRAME_BYTES } from '@procwire/core';

const WATCHED = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype] as const;

function shapeOf(target: object): string {
  return Reflect.ownKeys(target)
    .map((key) => {
      const d = Object.getOwnPropertyDescriptor(target, key)!;
      return `${String(key)}:${typeof d.value}:${d.get ? 'get' : ''}${d.set ? 'set' : ''}`;
    })
    .join(',');
}

/** A fingerprint of the built-in prototypes; any pollution changes it. */
export function prototypesFingerprint(): string {
  return WATCHED.map(shapeOf).join('\n') + `\n${String(Object.getPrototypeOf(Object.prototype))}`;
}

/** Unhandled rejections and uncaught exceptions seen while `watching` is on. */
export class EscapeWatch {
  readonly escaped: unknown[] = [];
  private readonly onEscape = (error: unknown) => {
    this.escaped.push(error);
  };

  start(): void {
    process.on('unhandledRejection', this.onEscape);
    process.on('uncaughtException', this.onEscape);
  }

  stop(): void {
    process.off('unhandledRejection', this.onEscape);
    process.off('uncaughtException', this.onEscape);
  }

  /** Takes what escaped since the last call. */
  take(): unknown[] {
    return this.escaped.splice(0);
  }
}

const SPLIT_LIMITS = resolveFrameLimits({ maxFrameBytes: HARD_MAX_FRAME_BYTES, maxDepth: 10_000, maxElements: 100_000_000 });

/** Splits a run a link delivered into frames and decodes each (undefined for one that cannot be decoded). */
export function decodeRun(source: Buffer, start: number, end: number): unknown[] {
  const messages: unknown[] = [];
  new FrameDelimiter(SPLIT_LIMITS).push(Buffer.from(source.subarray(start, end)), (frame) => {
    try {
      messages.push(decode(frame));
    } catch {
      messages.push(undefined);
    }
  });
  return messages;
}

/** Resolves after `ms`, or when `done()` turns true (checked every macrotask). */
export async function waitFor(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return true;
}
