import type { Socket } from 'node:net';
import {
  checkFrame,
  ErrorCode,
  ProcwireError,
  resolveFrameLimits,
  type FrameLimits,
  type Link,
  type LinkCapabilities,
  type LinkEvents,
  type PeerInfo,
} from '@procwire/core';
import type { MqWriter } from './mqPorts.js';

/** First byte of every queue message: does the frame go on in the next message? */
export const CHUNK_MORE = 0;
export const CHUNK_LAST = 1;

/** Queued bytes above which `send` asks the caller to wait for drain. */
const HIGH_WATER_BYTES = 1024 * 1024;

export interface MqLinkOptions {
  readonly peer: PeerInfo;
  readonly limits?: Partial<FrameLimits>;
  /** Writes to the peer's queue. */
  readonly writer: MqWriter;
  /** What goes before the payload of each outgoing message after the chunk byte (the client id on a server queue). */
  readonly prefix: Buffer;
  /** The peer queue's message size. */
  readonly messageSize: number;
  /** The liveness socket: it closes when the peer dies. */
  readonly control: Socket;
  /** Releases the queues of this connection. */
  readonly release: () => void;
}

/**
 * One procwire connection over message queues. A frame is cut into queue
 * messages of at most the queue's message size, each starting with a chunk
 * byte (and, towards a shared server queue, the sender's id); the receiving
 * side joins them, bounded by the frame limit, and checks the whole frame
 * before core sees it. A bad frame is dropped and reported; the connection
 * goes on, since the next message starts clean.
 */
export class MqLink implements Link {
  readonly capabilities: LinkCapabilities;
  readonly peer: PeerInfo;
  private readonly limits: FrameLimits;
  private events: LinkEvents | undefined;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private ended = false;
  private readonly closeWaiters: Array<() => void> = [];

  constructor(private readonly options: MqLinkOptions) {
    this.limits = resolveFrameLimits(options.limits);
    this.peer = options.peer;
    this.capabilities = { maxFrameBytes: this.limits.maxFrameBytes, preservesBoundaries: true, nativeDuplex: false };
    options.control.on('close', () => this.finish(new ProcwireError(ErrorCode.PEER_GONE, 'the peer of the message queue connection went away')));
    options.control.on('error', () => {});
  }

  get closed(): boolean {
    return this.ended;
  }

  start(events: LinkEvents): void {
    this.events = events;
  }

  /** One message's payload for this connection (the caller strips the header). */
  receive(kind: number, payload: Buffer): void {
    if (this.ended) return;
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
      this.events?.malformed?.(error as Error);
      return;
    }
    this.events?.frames(frame, 0, frame.length);
  }

  send(frame: Uint8Array): boolean {
    if (this.ended) return false;
    const { prefix, messageSize, writer } = this.options;
    const room = messageSize - 1 - prefix.length;
    for (let at = 0; at < frame.length || at === 0; at += room) {
      const end = Math.min(frame.length, at + room);
      const message = Buffer.allocUnsafe(1 + prefix.length + (end - at));
      message[0] = end === frame.length ? CHUNK_LAST : CHUNK_MORE;
      prefix.copy(message, 1);
      message.set(frame.subarray(at, end), 1 + prefix.length);
      writer.send(message);
      if (end === frame.length) break;
    }
    return writer.queuedBytes < HIGH_WATER_BYTES;
  }

  onWriterDrain(): void {
    if (!this.ended) this.events?.drain();
  }

  async close(): Promise<void> {
    if (this.ended) return;
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
