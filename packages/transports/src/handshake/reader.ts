import type { Readable } from 'node:stream';

/** The peer closed its side (or the stream ended) before a handshake message was complete. */
export class HandshakeEnded extends Error {
  constructor(readonly received: number) {
    super('the connection closed during the handshake');
  }
}

/** The bytes read so far cannot begin the expected message. */
export class HandshakeMismatch extends Error {
  constructor(readonly bytes: Buffer) {
    super('unexpected bytes in the handshake');
  }
}

/**
 * Reads handshake messages of known length from a stream without taking a
 * byte more than asked: whatever follows stays in the stream for the link
 * that takes over, which attaches its own 'data' listener afterwards (a
 * stream left without 'readable' listeners goes back to its initial state,
 * so that listener starts the flow).
 */
export class HandshakeReader {
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;
  private received = 0;
  private readonly onReadable = () => this.wake();
  private readonly onEnd = () => this.fail(new HandshakeEnded(this.received));
  private readonly onError = (error: Error) => this.fail(error);
  private readonly onAbort = () => this.fail(this.signal.reason as Error);

  constructor(
    private readonly stream: Readable,
    private readonly signal: AbortSignal,
  ) {
    stream.on('readable', this.onReadable);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
    signal.addEventListener('abort', this.onAbort);
    if (signal.aborted) this.onAbort();
    else if (stream.destroyed || stream.readableEnded) this.onEnd();
  }

  /**
   * Resolves with exactly `length` bytes. `fits`, given the bytes so far,
   * says whether they can still begin the message: a peer that sends
   * something else is found out at its first wrong byte, not after a wait.
   */
  async read(length: number, fits: (soFar: Buffer) => boolean = () => true): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    for (;;) {
      if (this.failure) throw this.failure;
      const available = this.stream.readableLength;
      if (available > 0) {
        const chunk = this.stream.read(Math.min(length - have, available)) as Buffer | null;
        if (chunk !== null) {
          parts.push(chunk);
          have += chunk.length;
          this.received += chunk.length;
          const soFar = parts.length === 1 ? chunk : Buffer.concat(parts, have);
          if (!fits(soFar)) throw new HandshakeMismatch(soFar);
          if (have === length) return soFar;
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  /** Detaches from the stream; the bytes after the handshake stay unread in it. */
  release(): void {
    this.stream.off('readable', this.onReadable);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
    this.signal.removeEventListener('abort', this.onAbort);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
