import type { MessageWriter } from '../links/messageLink.js';
import { native, type FdWatcher } from '@procwire/native';

/**
 * The two ends of a POSIX message queue as procwire uses them: a reader that
 * drains the queue whenever uv_poll says it is readable, and a writer whose
 * messages wait in a local queue while the kernel queue is full (a full
 * queue is backpressure, never loss). On Linux a queue descriptor is a file
 * descriptor, so both wait with FdWatcher and no thread ever blocks.
 */
export class MqReader {
  private readonly watcher: FdWatcher;
  private readonly buffer: Buffer;
  private closed = false;

  constructor(
    private readonly mqd: number,
    messageSize: number,
    private readonly onMessage: (message: Buffer, length: number) => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.buffer = Buffer.allocUnsafe(messageSize);
    this.watcher = new native.FdWatcher(mqd, (_events, errno) => {
      if (errno !== 0) return this.onError(new Error(`waiting on a message queue failed (errno ${errno})`));
      this.drain();
    });
  }

  start(): void {
    this.watcher.watch(native.constants.POLL_READABLE);
    this.drain();
  }

  private drain(): void {
    try {
      while (!this.closed) {
        const length = native.mqReceive(this.mqd, this.buffer);
        if (length < 0) return;
        this.onMessage(this.buffer, length);
      }
    } catch (error) {
      this.onError(error as Error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
  }
}

export class MqWriter implements MessageWriter {
  private readonly watcher: FdWatcher;
  private readonly pending: Buffer[] = [];
  private head = 0;
  private pendingBytes = 0;
  private watching = false;
  private closed = false;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly mqd: number,
    private readonly onDrain: () => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.watcher = new native.FdWatcher(mqd, (_events, errno) => {
      if (errno !== 0) return this.onError(new Error(`waiting on a message queue failed (errno ${errno})`));
      this.flush();
    });
  }

  /** Bytes waiting for room in the kernel queue. */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** Queues one message (at most the queue's message size). */
  send(message: Buffer): void {
    if (this.closed) return;
    if (this.head === this.pending.length && this.trySend(message)) return;
    this.pending.push(message);
    this.pendingBytes += message.length;
    this.waitForRoom();
  }

  /** Resolves when every queued message is in the kernel queue. */
  flushed(): Promise<void> {
    if (this.head === this.pending.length || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private trySend(message: Buffer): boolean {
    try {
      return native.mqSend(this.mqd, message, 0);
    } catch (error) {
      this.onError(error as Error);
      return true; // dropped with the connection
    }
  }

  private waitForRoom(): void {
    if (this.watching || this.closed) return;
    this.watching = true;
    this.watcher.watch(native.constants.POLL_WRITABLE);
  }

  private flush(): void {
    while (this.head < this.pending.length && !this.closed) {
      const message = this.pending[this.head]!;
      if (!this.trySend(message)) return; // still full: keep watching
      this.pending[this.head++] = undefined as unknown as Buffer;
      this.pendingBytes -= message.length;
    }
    this.pending.length = 0;
    this.head = 0;
    this.watching = false;
    this.watcher.watch(0);
    for (const waiter of this.drainWaiters.splice(0)) waiter();
    this.onDrain();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    this.pending.length = 0;
    for (const waiter of this.drainWaiters.splice(0)) waiter();
  }
}
