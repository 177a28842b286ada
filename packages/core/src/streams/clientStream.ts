import { describeIssues, schemaThrew, validate, type Validation } from '../contract/validate.js';
import type { ClientStream as ClientStreamApi, Schema } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { onAbort } from '../rpc/onAbort.js';

/** The part of the client a stream talks through. */
export interface StreamInlet {
  /** Sends the STREAM_OPEN; returns the message id, or an error when the client cannot. */
  openStream(stream: ClientStreamImpl<unknown>, method: string, input: unknown, credit: number): number | ProcwireError;
  grantCredit(id: number, credit: number): void;
  cancelStream(id: number): void;
}

export const DEFAULT_STREAM_WINDOW = 64;
const MAX_STREAM_WINDOW = 65_536;
/** Longer timeouts than Node timers can hold mean "no timeout". */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ClientStreamSettings {
  readonly signal?: AbortSignal;
  readonly window?: number;
  readonly timeoutMs?: number;
  readonly idleTimeoutMs?: number;
}

interface Turn {
  resolve(result: IteratorResult<unknown>): void;
  reject(error: unknown): void;
}

/**
 * The reading side of one stream. It opens on the first `next()`, keeps at
 * most `window` items buffered (the producer may only send what it has
 * credit for), and returns credit as the reader consumes: half a window at a
 * time, so credit messages cost one per window/2 items.
 *
 * `next()` calls take turns, as an async generator's do: a call made while
 * another is still pending waits for it, so each call gets the item after
 * the previous call's, and once one call reports the end or an error the
 * calls queued behind it report done.
 */
export class ClientStreamImpl<T> implements ClientStreamApi<T>, AsyncIterator<T> {
  private id = -1;
  private readonly buffer: unknown[] = [];
  private head = 0;
  private consumedSinceGrant = 0;
  private ended = false;
  private error: ProcwireError | undefined;
  /** The running turn, while it waits for the next item or the end. */
  private waiter: Turn | undefined;
  /** Whether a turn is running; further next() calls queue in `turns`. */
  private busy = false;
  private readonly turns: Turn[] = [];
  private readonly window: number;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private streamTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private removeAbortListener: (() => void) | undefined;

  constructor(
    private readonly inlet: StreamInlet,
    private readonly method: string,
    private readonly input: unknown,
    private readonly itemSchema: Schema | undefined,
    options: ClientStreamSettings = {},
  ) {
    const window = options.window ?? DEFAULT_STREAM_WINDOW;
    if (!Number.isInteger(window) || window < 1 || window > MAX_STREAM_WINDOW) {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `stream window must be an integer from 1 to ${MAX_STREAM_WINDOW}`);
    }
    this.window = window;
    this.timeoutMs = checkStreamTimeout(options.timeoutMs, 'timeoutMs');
    this.idleTimeoutMs = checkStreamTimeout(options.idleTimeoutMs, 'idleTimeoutMs');
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.fail(cancelled(signal));
      else this.removeAbortListener = onAbort(signal, () => this.cancelWith(cancelled(signal)));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.busy) return this.turn() as Promise<IteratorResult<T>>;
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.turns.push({ resolve: resolve as Turn['resolve'], reject });
    });
  }

  /** Stops the stream at once; next() calls still pending report done. */
  async return(): Promise<IteratorResult<T>> {
    this.cancelWith(undefined);
    return { done: true, value: undefined };
  }

  /** Stops the stream like return(), and rejects with `error` as a generator that does not catch it would. */
  async throw(error?: unknown): Promise<IteratorResult<T>> {
    this.cancelWith(undefined);
    throw error;
  }

  /** Stops the stream: the producer is told to stop, the reader sees the end. */
  cancel(): void {
    this.cancelWith(undefined);
  }

  // ---- called by the client as messages arrive ----

  onItem(item: unknown): void {
    if (this.ended) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      this.stopIdleTimer();
      this.deliver(item).then(waiter.resolve, waiter.reject);
    } else {
      this.buffer.push(item);
    }
  }

  onEnd(error: ProcwireError | undefined): void {
    this.fail(error);
  }

  // ---- turns ----

  private async turn(): Promise<IteratorResult<unknown>> {
    this.busy = true;
    try {
      if (this.id === -1 && !this.ended) this.open();
      if (this.head < this.buffer.length) return await this.take();
      if (this.ended) return await this.finish();
      return await new Promise<IteratorResult<unknown>>((resolve, reject) => {
        this.waiter = { resolve, reject };
        this.startIdleTimer();
      });
    } finally {
      this.nextTurn();
    }
  }

  private nextTurn(): void {
    const queued = this.turns.shift();
    if (!queued) {
      this.busy = false;
      return;
    }
    this.turn().then(queued.resolve, queued.reject);
  }

  private open(): void {
    const opened = this.inlet.openStream(this as ClientStreamImpl<unknown>, this.method, this.input, this.window);
    if (opened instanceof ProcwireError) return this.fail(opened);
    this.id = opened;
    if (this.timeoutMs > 0) {
      this.streamTimer = setTimeout(
        () => this.cancelWith(timedOut(`${this.method} did not end within timeoutMs (${this.timeoutMs} ms)`)),
        this.timeoutMs,
      );
      this.streamTimer.unref();
    }
  }

  private startIdleTimer(): void {
    if (this.idleTimeoutMs === 0) return;
    this.idleTimer = setTimeout(
      () => this.cancelWith(timedOut(`${this.method} sent no item within idleTimeoutMs (${this.idleTimeoutMs} ms)`)),
      this.idleTimeoutMs,
    );
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
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
    clearTimeout(this.streamTimer);
    this.stopIdleTimer();
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) this.finish().then(waiter.resolve, waiter.reject);
  }

  private async take(): Promise<IteratorResult<unknown>> {
    const item = this.buffer[this.head];
    this.buffer[this.head++] = undefined;
    if (this.head === this.buffer.length) {
      this.buffer.length = 0;
      this.head = 0;
    }
    return this.deliver(item);
  }

  private async deliver(item: unknown): Promise<IteratorResult<unknown>> {
    this.consumedSinceGrant++;
    if (!this.ended && this.consumedSinceGrant * 2 >= this.window) {
      this.inlet.grantCredit(this.id, this.consumedSinceGrant);
      this.consumedSinceGrant = 0;
    }
    if (!this.itemSchema) return { done: false, value: item };
    let checked: Validation;
    try {
      checked = await validate(this.itemSchema, item);
    } catch (cause) {
      // A schema's own code (a transform, a refinement) threw: the item cannot be read.
      const error = schemaThrew(`stream item of ${this.method}`, cause);
      this.cancelWith(error);
      throw error;
    }
    if (checked.ok) return { done: false, value: checked.value };
    const error = new ProcwireError(ErrorCode.INVALID_OUTPUT, `invalid stream item from ${this.method}: ${describeIssues(checked.issues)}`);
    this.cancelWith(error);
    throw error;
  }

  private async finish(): Promise<IteratorResult<unknown>> {
    if (this.error) {
      const error = this.error;
      this.error = undefined; // reported once; later next() calls just say done
      throw error;
    }
    return { done: true, value: undefined };
  }
}

function checkStreamTimeout(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `stream ${name} must be a non-negative number of milliseconds (0 = none)`);
  }
  return value > MAX_TIMER_MS ? 0 : value;
}

function timedOut(message: string): ProcwireError {
  return new ProcwireError(ErrorCode.TIMEOUT, message);
}

function cancelled(signal: AbortSignal): ProcwireError {
  return new ProcwireError(ErrorCode.CANCELLED, 'the stream was cancelled', { cause: signal.reason });
}
