import type { Socket } from 'node:net';
import {
  checkFrame,
  ErrorCode,
  FrameDelimiter,
  HARD_MAX_FRAME_BYTES,
  ProcwireError,
  resolveFrameLimits,
  type FrameLimits,
  type Link,
  type LinkCapabilities,
  type LinkEvents,
  type PeerInfo,
} from '@procwire/core';

/**
 * What a message link writes through: one mechanism message per call, in
 * order (a POSIX message queue, a mailslot). `queuedBytes` and `flushed`
 * report what the writer still holds; one that never waits holds nothing.
 */
export interface MessageWriter {
  readonly queuedBytes: number;
  send(message: Buffer): void;
  flushed(): Promise<void>;
  close(): void;
}

/**
 * First byte of every message: a chunk of a frame that goes on in the
 * next message, the last (or only) chunk of a frame, or several whole frames
 * back to back (small frames sent in one tick share one message, so a burst
 * of small messages costs one mq_send per message size, not per frame).
 */
const CHUNK_MORE = 0;
const CHUNK_LAST = 1;
export const WHOLE_FRAMES = 2;

const RESOLVED = Promise.resolve();

/** Queued bytes above which `send` asks the caller to wait for drain. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** Splits a message into frames by structure alone; each frame is then checked against the link's own limits. */
const SPLIT_ONLY_LIMITS = resolveFrameLimits({ maxFrameBytes: HARD_MAX_FRAME_BYTES, maxDepth: 10_000, maxElements: 100_000_000 });

export interface MessageLinkOptions {
  readonly peer: PeerInfo;
  /** The transport's name in messages (`message queue`, `mailslot`). */
  readonly mechanism: string;
  readonly limits?: Partial<FrameLimits>;
  /** Writes to the peer's queue or mailslot. */
  readonly writer: MessageWriter;
  /** What goes before the payload of each outgoing message after the chunk byte (the client id on a server queue). */
  readonly prefix: Buffer;
  /** The largest message the peer's queue or mailslot takes. */
  readonly messageSize: number;
  /** The liveness socket: it closes when the peer dies. */
  readonly control: Socket;
  /** Releases the queues or mailslots of this connection. */
  readonly release: () => void;
}

/**
 * One procwire connection over a message-oriented mechanism (POSIX message
 * queues, mailslots). A frame is cut into messages of at most the peer's
 * message size, each starting with a chunk
 * byte (and, towards a shared server queue, the sender's id); the receiving
 * side joins them, bounded by the frame limit, and checks the whole frame
 * before core sees it. A bad frame is dropped and reported (with the frames
 * after it in the same message, whose boundaries can no longer be trusted);
 * the connection goes on, since the next message starts clean.
 */
export class MessageLink implements Link {
  readonly capabilities: LinkCapabilities;
  readonly peer: PeerInfo;
  private readonly limits: FrameLimits;
  private events: LinkEvents | undefined;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private ended = false;
  private readonly closeWaiters: Array<() => void> = [];
  /** Small frames of this tick, packed into shared messages at its end. */
  private outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;
  private flushScheduled = false;
  /** `send` returned false: `drain` is owed once the backlog is below the high-water mark. */
  private drainOwed = false;
  /** Messages that arrived before start(); undefined once started. */
  private early: Array<[number, Buffer]> | undefined = [];

  constructor(private readonly options: MessageLinkOptions) {
    this.limits = resolveFrameLimits(options.limits);
    this.peer = options.peer;
    const { maxFrameBytes, maxDepth, maxElements } = this.limits;
    this.capabilities = { maxFrameBytes, maxDepth, maxElements, preservesBoundaries: true, nativeDuplex: false };
    options.control.on('close', () =>
      this.finish(new ProcwireError(ErrorCode.PEER_GONE, `the peer of the ${options.mechanism} connection went away`)),
    );
    options.control.on('error', () => {});
  }

  get closed(): boolean {
    return this.ended;
  }

  start(events: LinkEvents): void {
    this.events = events;
    const early = this.early;
    this.early = undefined;
    for (const [kind, payload] of early ?? []) this.receive(kind, payload);
  }

  /** One message's payload for this connection (the caller strips the header). */
  receive(kind: number, payload: Buffer): void {
    if (this.ended) return;
    if (this.early) {
      // The reader runs before the receiver is installed (a server may speak
      // first, e.g. to refuse the connection): keep what came, in order.
      this.early.push([kind, Buffer.from(payload)]);
      return;
    }
    if (kind === WHOLE_FRAMES) return this.receiveWholeFrames(payload);
    if (this.pieceBytes + payload.length > this.limits.maxFrameBytes) {
      return this.destroy(
        new ProcwireError(ErrorCode.FRAME_TOO_LARGE, `frame exceeds maxFrameBytes (${this.limits.maxFrameBytes})`, {
          data: { limit: 'maxFrameBytes', value: this.limits.maxFrameBytes },
        }),
      );
    }
    // The receive buffer is reused for the next message: keep a copy.
    this.pieces.push(Buffer.from(payload));
    this.pieceBytes += payload.length;
    if (kind !== CHUNK_LAST) return;
    const frame = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pieceBytes);
    this.pieces = [];
    this.pieceBytes = 0;
    try {
      checkFrame(frame, this.limits);
    } catch (error) {
      this.events?.malformed?.(error as Error, frame);
      return;
    }
    this.events?.frames(frame, 0, frame.length);
  }

  get bufferedBytes(): number {
    return this.options.writer.queuedBytes + this.outgoingBytes;
  }

  send(frame: Uint8Array): boolean {
    if (this.ended) return false;
    if (frame.length > this.room) {
      this.flushPacked();
      this.sendChunked(frame);
    } else {
      this.outgoing.push(frame);
      this.outgoingBytes += frame.length;
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        void RESOLVED.then(this.flushTask);
      }
    }
    if (this.bufferedBytes < HIGH_WATER_BYTES) return true;
    this.drainOwed = true;
    return false;
  }

  /** Payload bytes one message carries after its header. */
  private get room(): number {
    return this.options.messageSize - 1 - this.options.prefix.length;
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    this.flushPacked();
    // A writer that took everything at once (or a backlog of this tick's
    // small frames alone) has no drain of its own to report.
    if (this.drainOwed && this.bufferedBytes < HIGH_WATER_BYTES) this.onWriterDrain();
  };

  private message(kind: number, payloadBytes: number): Buffer {
    const { prefix } = this.options;
    const message = Buffer.allocUnsafe(1 + prefix.length + payloadBytes);
    message[0] = kind;
    prefix.copy(message, 1);
    return message;
  }

  /** Packs the tick's small frames into as few messages as fit. */
  private flushPacked(): void {
    const frames = this.outgoing;
    if (frames.length === 0 || this.ended) return;
    this.outgoing = [];
    this.outgoingBytes = 0;
    const header = 1 + this.options.prefix.length;
    for (let i = 0; i < frames.length;) {
      let bytes = 0;
      let j = i;
      while (j < frames.length && bytes + frames[j]!.length <= this.room) bytes += frames[j++]!.length;
      const message = this.message(j - i === 1 ? CHUNK_LAST : WHOLE_FRAMES, bytes);
      let at = header;
      for (let k = i; k < j; k++) {
        message.set(frames[k]!, at);
        at += frames[k]!.length;
      }
      this.options.writer.send(message);
      i = j;
    }
  }

  private sendChunked(frame: Uint8Array): void {
    const header = 1 + this.options.prefix.length;
    for (let at = 0; at < frame.length; at += this.room) {
      const end = Math.min(frame.length, at + this.room);
      const message = this.message(end === frame.length ? CHUNK_LAST : CHUNK_MORE, end - at);
      message.set(frame.subarray(at, end), header);
      this.options.writer.send(message);
    }
  }

  /**
   * A message of whole frames: each is checked and delivered on its own (a
   * message link passes one frame per `frames` call, as LinkEvents says: a
   * receiver that decodes one message per call must not lose the others);
   * a bad one drops the rest of that message.
   */
  private receiveWholeFrames(payload: Buffer): void {
    if (this.pieces.length > 0) {
      this.pieces = [];
      this.pieceBytes = 0;
      this.events?.malformed?.(new ProcwireError(ErrorCode.PROTOCOL, 'whole frames arrived in the middle of a chunked frame'));
    }
    // The receive buffer is reused for the next message: keep a copy.
    const copy = Buffer.from(payload);
    const delimiter = new FrameDelimiter(this.limits);
    const frames: Buffer[] = [];
    let violation: Error | undefined;
    try {
      // The frames before a violation are still found, and delivered.
      delimiter.push(copy, (frame) => frames.push(frame));
      if (!delimiter.idle) throw new ProcwireError(ErrorCode.PROTOCOL, 'a message of whole frames ends inside a frame');
    } catch (error) {
      violation = error as Error;
    }
    let delivered = 0;
    for (const frame of frames) {
      if (this.ended) return;
      delivered += frame.length;
      this.events?.frames(frame, 0, frame.length);
    }
    if (violation && !this.ended) this.afterBadFrame(copy.subarray(delivered), violation);
  }

  /**
   * A frame of a message of whole frames broke a limit: if the rest of the
   * message still splits into frames (its structure is sound, only a limit
   * was broken), each is checked on its own, so only the bad one is dropped;
   * otherwise the rest of the message goes with it. Either way the receiver
   * gets the bytes, to fail the call or stream whose msgid it can read.
   */
  private afterBadFrame(rest: Buffer, error: Error): void {
    const frames: Buffer[] = [];
    try {
      const splitter = new FrameDelimiter(SPLIT_ONLY_LIMITS);
      splitter.push(rest, (frame) => frames.push(frame));
      if (!splitter.idle) throw error;
    } catch {
      this.events?.malformed?.(error, rest);
      return;
    }
    for (const frame of frames) {
      try {
        checkFrame(frame, this.limits);
      } catch (frameError) {
        this.events?.malformed?.(frameError as Error, frame);
        continue;
      }
      if (this.ended) return;
      this.events?.frames(frame, 0, frame.length);
    }
  }

  onWriterDrain(): void {
    this.drainOwed = false;
    if (!this.ended) this.events?.drain();
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.flushPacked();
    await Promise.race([this.options.writer.flushed(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.finish();
  }

  destroy(error?: Error): void {
    this.finish(error);
  }

  whenClosed(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private finish(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.pieces = [];
    this.options.writer.close();
    this.options.control.destroy();
    this.options.release();
    this.events?.close(error);
    for (const waiter of this.closeWaiters.splice(0)) waiter();
  }
}
