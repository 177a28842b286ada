import { setImmediate as nextTurn } from 'node:timers/promises';
import { decode, FrameDelimiter, HARD_MAX_FRAME_BYTES, resolveFrameLimits, type Link } from 'procwire/link';
import { Replies } from './badInput.answers.js';

/** Splits a run of whole frames the link delivered: they were checked already. */
const RESPLIT = resolveFrameLimits({ maxFrameBytes: HARD_MAX_FRAME_BYTES, maxDepth: 10_000, maxElements: 100_000_000 });

/** Writes larger than this go out in pieces: shm: rings take at most a frame limit per record, and the receiver sees one byte stream either way. */
const PIECE_BYTES = 1024 * 1024;

/**
 * One hostile connection: raw bytes out, every message the server sends
 * back decoded and kept, and when (and why) the server hung up.
 */
export class HostileSession {
  readonly replies = new Replies();
  /** Frames from the server that did not decode, or broke the framing rules (a server bug either way). */
  readonly garbled: string[] = [];
  closed = false;
  closedAt = 0;
  closeError: Error | undefined;
  private wake: Array<() => void> = [];

  /** `messageOriented`: each send is one frame (mq:), never to be cut. */
  constructor(
    readonly link: Link,
    private readonly messageOriented: boolean,
  ) {
    link.start({
      frames: (source, start, end) => {
        new FrameDelimiter(RESPLIT).push(source.subarray(start, end), (frame) => {
          try {
            this.replies.add(decode(frame));
          } catch (error) {
            this.garbled.push(`undecodable answer: ${(error as Error).message}`);
          }
        });
        this.notify();
      },
      malformed: (error) => {
        this.garbled.push(`malformed answer: ${error.message}`);
        this.notify();
      },
      drain: () => this.notify(),
      close: (error) => {
        this.closed = true;
        this.closedAt = performance.now();
        this.closeError = error;
        this.notify();
      },
    });
  }

  private notify(): void {
    for (const wake of this.wake.splice(0)) wake();
  }

  /** Resolves true once `done()` holds, false after `ms` without it. */
  async until(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Queues bytes for one write, or one message on mq: (large writes go in pieces on a byte stream, where the receiver cannot tell). */
  send(bytes: Uint8Array): void {
    if (this.messageOriented) this.link.send(bytes);
    else for (let at = 0; at < bytes.length; at += PIECE_BYTES) this.link.send(bytes.subarray(at, at + PIECE_BYTES));
  }

  /** One byte per write, each in its own turn of the event loop so no two share a write. */
  async sendBytewise(bytes: Uint8Array): Promise<void> {
    for (let i = 0; i < bytes.length && !this.closed; i++) {
      this.link.send(bytes.subarray(i, i + 1));
      await nextTurn();
    }
  }

  destroy(): void {
    this.link.destroy();
  }
}
