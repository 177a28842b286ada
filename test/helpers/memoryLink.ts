/**
 * Two Links joined in memory, behaving like the two ends of a socket: what
 * one end sends arrives at the other in a later macrotask, as bytes cut into
 * chunks however the test says, through a FrameDelimiter. Core's server and
 * client run on them unchanged, so a test can drive either with any message
 * (or any bytes) without a process or a kernel object in between.
 *
 * Each end records what its receiver threw out of a link callback: a link
 * must never see that (a real one would drop the connection).
 */
import {
  ErrorCode,
  FrameDelimiter,
  ProcwireError,
  resolveFrameLimits,
  type FrameLimits,
  type Link,
  type LinkAcceptor,
  type LinkCapabilities,
  type LinkEvents,
  type PeerInfo,
} from '@procwire/core';

export interface MemoryLinkOptions {
  /** Limits this end applies to what it receives (and announces as maxFrameBytes). */
  readonly limits?: Partial<FrameLimits>;
  readonly peer?: PeerInfo;
  /** Cuts the bytes of one delivery into the chunks the receiving delimiter sees. */
  readonly chunks?: (bytes: Buffer) => Buffer[];
}

const HIGH_WATER_BYTES = 1024 * 1024;

export class MemoryLink implements Link {
  readonly capabilities: LinkCapabilities;
  readonly peer: PeerInfo;
  /** Whatever the receiver threw out of `frames`, `drain` or `close`. */
  readonly callbackErrors: unknown[] = [];
  /** Why this end closed (undefined: cleanly, or not yet). */
  closeError: Error | undefined;
  private remote: MemoryLink | undefined;
  private events: LinkEvents | undefined;
  private readonly delimiter: FrameDelimiter;
  private readonly chunks: (bytes: Buffer) => Buffer[];
  private outgoing: Buffer[] = [];
  private outgoingBytes = 0;
  private flushScheduled = false;
  private ended = false;
  private readonly closeWaiters: Array<() => void> = [];
  /** Chunks that arrived before `start`: a socket buffers them too. */
  private early: Buffer[] = [];

  constructor(options: MemoryLinkOptions = {}) {
    const limits = resolveFrameLimits(options.limits);
    this.delimiter = new FrameDelimiter(limits);
    this.peer = options.peer ?? { transport: 'memory', pid: process.pid };
    this.chunks = options.chunks ?? ((bytes) => [bytes]);
    const { maxFrameBytes, maxDepth, maxElements } = limits;
    this.capabilities = { maxFrameBytes, maxDepth, maxElements, preservesBoundaries: false, nativeDuplex: true };
  }

  /** Joins two ends; each one's sends arrive at the other. */
  static pair(a: MemoryLinkOptions = {}, b: MemoryLinkOptions = {}): [MemoryLink, MemoryLink] {
    const left = new MemoryLink(a);
    const right = new MemoryLink(b);
    left.remote = right;
    right.remote = left;
    return [left, right];
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Bytes sent from this end that the other has not received yet. */
  get bufferedBytes(): number {
    return this.outgoingBytes;
  }

  start(events: LinkEvents): void {
    this.events = events;
    const early = this.early;
    this.early = [];
    for (const chunk of early) this.receive(chunk);
  }

  send(frame: Uint8Array): boolean {
    return this.sendBytes(Buffer.from(frame));
  }

  sendParts(parts: readonly Uint8Array[], length: number): boolean {
    return this.sendBytes(Buffer.concat(parts as Uint8Array[], length));
  }

  /** Sends bytes as they are: a frame, several, or a piece of one (the test plays a hostile peer). */
  sendBytes(bytes: Buffer): boolean {
    if (this.ended) return false;
    this.outgoing.push(bytes);
    this.outgoingBytes += bytes.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return this.outgoingBytes < HIGH_WATER_BYTES;
  }

  /** Resolves once everything sent so far has reached the other end's receiver. */
  async settled(): Promise<void> {
    while (this.flushScheduled || this.remote?.flushScheduled) await new Promise((resolve) => setImmediate(resolve));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.ended || this.outgoing.length === 0) return;
    const bytes = Buffer.concat(this.outgoing, this.outgoingBytes);
    const wasAbove = this.outgoingBytes >= HIGH_WATER_BYTES;
    this.outgoing = [];
    this.outgoingBytes = 0;
    const remote = this.remote!;
    for (const chunk of remote.chunks(bytes)) remote.receive(chunk);
    if (wasAbove) this.callback(() => this.events?.drain());
  }

  private receive(chunk: Buffer): void {
    if (this.ended) return;
    if (!this.events) {
      this.early.push(chunk);
      return;
    }
    const events = this.events;
    try {
      this.delimiter.pushRuns(chunk, (source, start, end) => {
        if (!this.ended) this.callback(() => events.frames(source, start, end));
      });
    } catch (error) {
      // The peer broke the framing: a byte stream cannot recover, so the link goes, as a socket's does.
      this.destroy(error as Error);
    }
  }

  private callback(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.callbackErrors.push(error);
    }
  }

  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      // What is queued goes first, then both ends see the close, as with a socket's end().
      setImmediate(() => {
        this.flush();
        this.finish(undefined);
        this.remote?.remoteEnded();
      });
    });
  }

  destroy(error?: Error): void {
    if (this.ended) return;
    this.outgoing = [];
    this.outgoingBytes = 0;
    this.finish(error);
    setImmediate(() => this.remote?.remoteEnded());
  }

  private remoteEnded(): void {
    if (this.ended) return;
    this.finish(this.delimiter.idle ? undefined : new ProcwireError(ErrorCode.PEER_GONE, 'the other end closed in the middle of a frame'));
  }

  private finish(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.closeError = error;
    this.callback(() => this.events?.close(error));
    for (const waiter of this.closeWaiters.splice(0)) waiter();
  }
}

/** An acceptor that yields the links a test hands it, as a listening socket yields connections. */
export class MemoryAcceptor implements LinkAcceptor {
  readonly url = 'memory://property-test';
  private onLink: ((link: Link) => void) | undefined;
  private readonly waiting: Link[] = [];
  private ended = false;

  start(onLink: (link: Link) => void): void {
    this.onLink = onLink;
    for (const link of this.waiting.splice(0)) onLink(link);
  }

  /** A client connects: the server is handed `link`, the server's end of a pair. */
  connect(link: Link): void {
    if (this.ended) {
      link.destroy();
      return;
    }
    if (this.onLink) this.onLink(link);
    else this.waiting.push(link);
  }

  async close(): Promise<void> {
    this.ended = true;
  }
}
