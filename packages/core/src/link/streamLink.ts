import type { Readable, Writable } from 'node:stream';
import type { PeerInfo } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { FrameDelimiter } from '../wire/frameDelimiter.js';
import { resolveFrameLimits, type FrameLimits } from '../wire/limits.js';
import type { Link, LinkCapabilities, LinkEvents } from './link.js';

export interface StreamLinkOptions {
  readonly peer: PeerInfo;
  readonly limits?: Partial<FrameLimits>;
  /** True when input and output are one OS object (a socket). */
  readonly nativeDuplex?: boolean;
  /** Queued bytes above which `send` returns false (default 1 MiB). */
  readonly highWaterBytes?: number;
}

/** Frames queued in one tick are written together up to this many bytes. */
const COALESCE_BYTES = 64 * 1024;
const RESOLVED = Promise.resolve();
/** How long close() waits for the peer to finish before destroying. */
const CLOSE_GRACE_MS = 2000;

/**
 * A link over a byte stream (socket, pipe pair). Outgoing frames sent in the
 * same tick are coalesced into one write, which is what makes small-message
 * throughput high; incoming bytes go through FrameDelimiter, so only whole,
 * bounded frames reach core.
 */
export function createStreamLink(input: Readable, output: Writable, options: StreamLinkOptions): Link {
  return new StreamLink(input, output, options);
}

class StreamLink implements Link {
  readonly capabilities: LinkCapabilities;
  readonly peer: PeerInfo;
  private readonly delimiter: FrameDelimiter;
  private readonly highWater: number;
  private events: LinkEvents | undefined;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private ended = false;
  private closeReported = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    options: StreamLinkOptions,
  ) {
    const limits = resolveFrameLimits(options.limits);
    this.delimiter = new FrameDelimiter(limits);
    this.peer = options.peer;
    this.highWater = options.highWaterBytes ?? 1024 * 1024;
    this.capabilities = {
      maxFrameBytes: limits.maxFrameBytes,
      maxDepth: limits.maxDepth,
      maxElements: limits.maxElements,
      preservesBoundaries: false,
      nativeDuplex: options.nativeDuplex ?? input === (output as unknown),
    };
  }

  get closed(): boolean {
    return this.ended;
  }

  get bufferedBytes(): number {
    return this.queuedBytes + this.output.writableLength;
  }

  start(events: LinkEvents): void {
    this.events = events;
    const onFrames = (source: Buffer, start: number, end: number) => {
      if (!this.ended) events.frames(source, start, end);
    };
    this.input.on('data', (chunk: Buffer) => {
      if (this.ended) return;
      try {
        this.delimiter.pushRuns(chunk, onFrames);
      } catch (error) {
        this.destroy(error as Error);
      }
    });
    this.input.on('end', () => this.finish(this.delimiter.idle ? undefined : truncated()));
    this.input.on('error', (error) => this.finish(error));
    this.input.on('close', () => this.finish());
    if (this.output !== (this.input as unknown)) {
      this.output.on('error', (error) => this.finish(error));
      this.output.on('close', () => this.finish());
    }
    this.output.on('drain', () => {
      if (!this.ended) this.events?.drain();
    });
  }

  send(frame: Uint8Array): boolean {
    if (this.ended) return false;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= COALESCE_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A resolved promise's then() is the cheapest way to run at the end of
      // this tick (queueMicrotask adds an async-hooks resource per call).
      void RESOLVED.then(this.flushTask);
    }
    return this.queuedBytes + this.output.writableLength < this.highWater;
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private flush(): void {
    const queue = this.queue;
    if (queue.length === 0 || this.ended) return;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    if (queue.length === 1) {
      this.output.write(queue[0]!);
    } else if (bytes <= COALESCE_BYTES * 2) {
      this.output.write(Buffer.concat(queue, bytes));
    } else {
      // Large frames are not copied together; cork lets the stream use writev.
      this.output.cork();
      for (const frame of queue) this.output.write(frame);
      this.output.uncork();
    }
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      if (this.ended) return resolve();
      this.flush();
      const timer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.onceClosed(done);
      this.output.end();
    });
    return this.closing;
  }

  destroy(error?: Error): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.finish(error); // destroys both streams
  }

  private closeWaiters: Array<() => void> = [];
  private onceClosed(callback: () => void): void {
    if (this.closeReported) callback();
    else this.closeWaiters.push(callback);
  }

  private finish(error?: Error): void {
    if (this.closeReported) return;
    this.ended = true;
    this.closeReported = true;
    this.input.destroy();
    if (this.output !== (this.input as unknown)) this.output.destroy();
    this.events?.close(error);
    for (const waiter of this.closeWaiters.splice(0)) waiter();
  }
}

function truncated(): ProcwireError {
  return new ProcwireError(ErrorCode.PEER_GONE, 'peer closed the stream in the middle of a frame');
}
