import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import type { CallContext } from '../rpc/callContext.js';
import { MessageType } from '../wire/constants.js';

/** The part of the connection a stream writes through. */
export interface StreamOutlet {
  /**
   * Sends one frame. An item's binary payloads may be lent to the link: false
   * means the link may still be reading them, until the next `onDrain`.
   */
  sendStreamFrame(type: number, id: number, payload: unknown): boolean;
  /** Makes the link copy what it still reads from lent payloads (the producer is stopping). */
  copyLent(): void;
  /** The stream's id is free (it ended or was cancelled); its producer may still run. */
  streamFinished(id: number, stream: ServerStream): void;
  /** What the reader is told of an error the handler threw. */
  handlerError(error: unknown, ctx: CallContext): ProcwireError;
  /** The producer has returned or thrown, or will never run: the stream's slot is free. */
  producerSettled(stream: ServerStream): void;
}

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

/**
 * The producing side of one stream. It pulls from the handler's iterator
 * only while it holds credit granted by the reader, and pauses while the
 * link's send queue is above its high-water mark, so a reader that stops
 * reading stops the producer and the server's memory stays flat.
 *
 * Pulling the next item lets the handler reuse the buffer of the last one,
 * which the link may still be reading (shm: a payload larger than the ring
 * room is read from the handler's buffer as room appears). So after a send
 * that reports no room, only the link's drain lets the producer go on: new
 * credit alone does not.
 */
export class ServerStream {
  private credit: number;
  /** The last send reported no room: the link may hold the item's payload until it drains. */
  private awaitingDrain = false;
  private wake: (() => void) | undefined;
  private cancelled = false;
  private finished = false;
  private iterator: AnyIterator | undefined;
  private started = false;
  private producerDone = false;

  constructor(
    private readonly outlet: StreamOutlet,
    private readonly id: number,
    private readonly ctx: CallContext,
    initialCredit: number,
  ) {
    this.credit = initialCredit;
  }

  /** True once the producer has returned or thrown, or can no longer start. */
  get settled(): boolean {
    return this.producerDone;
  }

  start(produce: () => unknown): void {
    this.started = true;
    // Cancelled while its input was being validated: the handler never runs.
    if (this.cancelled || this.finished) return this.producerSettled();
    void this.run(produce).finally(() => this.producerSettled());
  }

  /**
   * Ends the stream with an error: before any item (bad input, say), or when
   * the server shuts down (`stopProducer`: the handler's signal aborts too).
   */
  fail(error: ProcwireError, stopProducer = false): void {
    if (stopProducer && !this.finished) {
      this.cancelled = true;
      this.ctx.abort(error);
      this.end(error);
      this.resume();
      return;
    }
    this.end(error);
    // Failed before it started (invalid input): no producer will run.
    if (!this.started) this.producerSettled();
  }

  addCredit(credit: number): void {
    this.credit += credit;
    this.resume();
  }

  onDrain(): void {
    this.awaitingDrain = false;
    this.resume();
  }

  /** The reader went away or cancelled: stop producing, tell the handler. */
  cancel(reason: ProcwireError): void {
    if (this.finished) return;
    this.cancelled = true;
    this.finished = true;
    this.ctx.abort(reason);
    this.outlet.streamFinished(this.id, this);
    this.resume();
  }

  private resume(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  private async run(produce: () => unknown): Promise<void> {
    try {
      this.iterator = iteratorOf(produce());
      for (;;) {
        if (this.cancelled) return;
        if (this.awaitingDrain || this.credit <= 0) {
          await this.pause();
          continue;
        }
        const step = await this.iterator.next();
        if (this.cancelled) return;
        if (step.done) return this.end(undefined);
        this.credit--;
        if (!this.outlet.sendStreamFrame(MessageType.STREAM_ITEM, this.id, step.value)) this.awaitingDrain = true;
      }
    } catch (error) {
      if (!this.cancelled) this.end(this.outlet.handlerError(error, this.ctx));
    } finally {
      // The handler's cleanup may reuse the buffer the link still reads.
      if (this.awaitingDrain) this.outlet.copyLent();
      // The producer's own cleanup (its finally blocks) still counts as running.
      if (this.cancelled) await closeQuietly(this.iterator);
    }
  }

  private producerSettled(): void {
    if (this.producerDone) return;
    this.producerDone = true;
    this.outlet.producerSettled(this);
  }

  private end(error: ProcwireError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.outlet.streamFinished(this.id, this);
    this.outlet.sendStreamFrame(MessageType.STREAM_END, this.id, error ?? null);
  }
}

function iteratorOf(value: unknown): AnyIterator {
  const v = value as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null;
  const asyncIterator = v?.[Symbol.asyncIterator];
  if (typeof asyncIterator === 'function') return asyncIterator.call(v);
  const syncIterator = v?.[Symbol.iterator];
  if (typeof syncIterator === 'function') return syncIterator.call(v);
  throw new ProcwireError(ErrorCode.HANDLER_ERROR, 'a stream handler must return an iterable or async iterable');
}

async function closeQuietly(iterator: AnyIterator | undefined): Promise<void> {
  try {
    await iterator?.return?.();
  } catch {
    // The handler's cleanup failed; the stream is already over for the reader.
  }
}
