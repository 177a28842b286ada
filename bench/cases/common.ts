/**
 * The interface every case implements on the measuring (client) side, and
 * two small helpers the framework-less cases share. The measurement loops in
 * lib/measure.ts only see this interface, so every library is timed by the
 * same code.
 */
import type { Payload } from '../lib/payload.js';
import type { SessionSpec } from '../lib/session.js';

export interface BenchClient {
  /** pid of the server process (to report its CPU affinity). */
  readonly serverPid: number | undefined;
  /** One request and its answer: the server echoes the payload. */
  roundTrip(payload: Payload): Promise<unknown>;
  /** Asks the server for `count` one-way messages; resolves once all have been received and decoded. */
  receiveBurst(count: number, size: number): Promise<void>;
  /**
   * Asks for `count` one-way binary messages of `size` bytes (BinaryMessage);
   * resolves once all are in. Only cases that carry binary data natively
   * (msgpack bin) have it.
   */
  receiveBytes?(count: number, size: number): Promise<void>;
  /** Messages of the current burst received so far (for a burst cut short by the time limit). */
  received(): number;
  /** Closes the connection and stops the server. */
  close(): Promise<void>;
}

export type OpenCase = (spec: SessionSpec) => Promise<BenchClient>;

/**
 * The one call in flight of a library without request ids (the raw socket,
 * process.send, node-ipc): the latency loop never has two outstanding, so a
 * single slot is all the bookkeeping needed, and the floor carries no map.
 */
export class OneInFlight {
  private resolve: ((value: unknown) => void) | undefined;

  wait(): Promise<unknown> {
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  settle(value: unknown): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(value);
  }
}

/** Counts the one-way messages of a burst and resolves when the last one is in. */
export class BurstCounter {
  private remaining = 0;
  private expected = 0;
  private done: (() => void) | undefined;

  get received(): number {
    return this.expected - this.remaining;
  }

  get active(): boolean {
    return this.remaining > 0;
  }

  start(count: number): Promise<void> {
    this.remaining = count;
    this.expected = count;
    return new Promise((resolve) => {
      this.done = resolve;
    });
  }

  tick(): void {
    if (this.remaining > 0 && --this.remaining === 0) {
      const done = this.done;
      this.done = undefined;
      done?.();
    }
  }
}
