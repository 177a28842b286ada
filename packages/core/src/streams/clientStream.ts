import { describeIssues, validate } from '../contract/validate.js';
import type { ClientStream as ClientStreamApi, Schema } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';

/** The part of the client a stream talks through. */
export interface StreamInlet {
  /** Sends the STREAM_OPEN; returns the message id, or an error when the client cannot. */
  openStream(stream: ClientStreamImpl<unknown>, method: string, input: unknown, credit: number): number | ProcwireError;
  grantCredit(id: number, credit: number): void;
  cancelStream(id: number): void;
}

export const DEFAULT_STREAM_WINDOW = 64;
const MAX_STREAM_WINDOW = 65_536;

/**
 * The reading side of one stream. It opens on the first `next()`, keeps at
 * most `window` items buffered (the producer may only send what it has
 * credit for), and returns credit as the reader consumes: half a window at a
 * time, so credit messages cost one per window/2 items.
 */
export class ClientStreamImpl<T> implements ClientStreamApi<T>, AsyncIterator<T> {
  private id = -1;
  private readonly buffer: unknown[] = [];
  private head = 0;
  private consumedSinceGrant = 0;
  private ended = false;
  private error: ProcwireError | undefined;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private readonly window: number;
  private removeAbortListener: (() => void) | undefined;

  constructor(
    private readonly inlet: StreamInlet,
    private readonly method: string,
    private readonly input: unknown,
    private readonly itemSchema: Schema | undefined,
    options: { signal?: AbortSignal; window?: number } = {},
  ) {
    const window = options.window ?? DEFAULT_STREAM_WINDOW;
    if (!Number.isInteger(window) || window < 1 || window > MAX_STREAM_WINDOW) {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `stream window must be an integer from 1 to ${MAX_STREAM_WINDOW}`);
    }
    this.window = window;
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.fail(cancelled(signal));
      else {
        const onAbort = () => this.cancelWith(cancelled(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        this.removeAbortListener = () => signal.removeEventListener('abort', onAbort);
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.id === -1 && !this.ended) {
      const opened = this.inlet.openStream(this as ClientStreamImpl<unknown>, this.method, this.input, this.window);
      if (opened instanceof ProcwireError) this.fail(opened);
      else this.id = opened;
    }
    if (this.head < this.buffer.length) return this.take();
    if (this.ended) return this.finish();
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<T>> {
    this.cancelWith(undefined);
    return { done: true, value: undefined };
  }

  /** Stops the stream: the producer is told to stop, the reader sees the end. */
  cancel(): void {
    this.cancelWith(undefined);
  }

  // ---- called by the client as messages arrive ----

  onItem(item: unknown): void {
    if (this.ended) return;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      this.deliver(item).then(waiter.resolve, waiter.reject);
    } else {
      this.buffer.push(item);
    }
  }

  onEnd(error: ProcwireError | undefined): void {
    this.fail(error);
  }

  private cancelWith(error: ProcwireError | undefined): void {
    if (this.ended) return;
    if (this.id !== -1) this.inlet.cancelStream(this.id);
    this.buffer.length = 0;
    this.head = 0;
    this.fail(error);
  }

  private fail(error: ProcwireError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.removeAbortListener?.();
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) this.finish().then(waiter.resolve, waiter.reject);
  }

  private async take(): Promise<IteratorResult<T>> {
    const item = this.buffer[this.head];
    this.buffer[this.head++] = undefined;
    if (this.head === this.buffer.length) {
      this.buffer.length = 0;
      this.head = 0;
    }
    return this.deliver(item);
  }

  private async deliver(item: unknown): Promise<IteratorResult<T>> {
    this.consumedSinceGrant++;
    if (!this.ended && this.consumedSinceGrant * 2 >= this.window) {
      this.inlet.grantCredit(this.id, this.consumedSinceGrant);
      this.consumedSinceGrant = 0;
    }
    if (!this.itemSchema) return { done: false, value: item as T };
    const checked = await validate(this.itemSchema, item);
    if (checked.ok) return { done: false, value: checked.value as T };
    const error = new ProcwireError(ErrorCode.INVALID_OUTPUT, `invalid stream item from ${this.method}: ${describeIssues(checked.issues)}`);
    this.cancelWith(error);
    throw error;
  }

  private async finish(): Promise<IteratorResult<T>> {
    if (this.error) {
      const error = this.error;
      this.error = undefined; // reported once; later next() calls just say done
      throw error;
    }
    return { done: true, value: undefined };
  }
}

function cancelled(signal: AbortSignal): ProcwireError {
  return new ProcwireError(ErrorCode.CANCELLED, 'the stream was cancelled', { cause: signal.reason });
}
