import {
  ErrorCode,
  FrameDelimiter,
  ProcwireError,
  type FrameLimits,
  type Link,
  type LinkCapabilities,
  type LinkEvents,
  type PeerInfo,
} from '@procwire/core';
import type { ShmChannel } from '@procwire/native';
import type { ShmSignals } from './signals.js';
import { spinner, type WaitPolicy } from './wait.js';

/** Win32's ERROR_INVALID_DATA: how the Windows addon reports a corrupt ring. */
const ERROR_INVALID_DATA = 13;
/** What `nextLength` answers while the next frame's length has not arrived. */
const NOT_YET = -3;
/** Received small frames are copied side by side into slabs of this size. */
const SLAB_BYTES = 64 * 1024;
/** Frames above this get a buffer of their own, filled straight from the ring. */
const OWN_BUFFER_FROM = 16 * 1024;
/**
 * Give the CPU up between looks while spinning, always: when the peer shares
 * our CPU (pinned, or a loaded machine put both on one CPU) it must run for
 * anything to arrive, and when nothing else wants the CPU the yield returns
 * at once.
 */
const YIELD_WHILE_SPINNING = true;
/** Most frames one `readWhole` call takes. */
const BATCH_FRAMES = 1024;
/** Frames up to this size (and a quarter of the ring) are batched per tick. */
const BATCH_BYTES = 64 * 1024;
const RESOLVED = Promise.resolve();
/** Queued bytes above which `send` asks the caller to wait for `drain`. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** How long `close()` waits for the peer to take what is queued. */
const CLOSE_FLUSH_MS = 2000;

export interface ShmLinkOptions {
  readonly peer: PeerInfo;
  readonly limits: FrameLimits;
  /** The POSIX or the Windows channel: the same methods. */
  /** The POSIX or the Windows channel: the same methods. */
  readonly channel: ShmChannel;
  readonly capacity: number;
  /** The doorbell and the control wire (platform-specific). */
  readonly signals: ShmSignals;
  readonly wait: WaitPolicy;
}

type State = 'awake' | 'spinning' | 'sleeping' | 'closed';

/**
 * A frame waiting for ring room: one buffer (the link's own: encoder output
 * or a copy), or the parts of a gathered frame, lent by the sender.
 */
interface QueuedFrame {
  readonly bytes: Uint8Array | readonly Uint8Array[];
  readonly length: number;
}

/**
 * One procwire connection over a pair of shared-memory rings. Frames go into
 * the outbound ring with one copy; received frames are copied out once, into
 * a slab (small frames, side by side) or a buffer of their own (large ones),
 * checked as a byte stream by the frame delimiter, and handed to core.
 *
 * Waiting: after each round of work the link either spins (the process-wide
 * spinner polls its ring for up to `spinMicros`, in slices that never hold the
 * event loop longer than that) or sleeps: it asks the peer to ring its
 * doorbell (ShmSignals: an eventfd on Linux, a named event on Windows),
 * which the event loop waits for, so an idle connection costs no CPU.
 */
export class ShmLink implements Link {
  readonly capabilities: LinkCapabilities;
  readonly peer: PeerInfo;
  private readonly channel: ShmChannel;
  private readonly delimiter: FrameDelimiter;
  private events: LinkEvents | undefined;
  private state: State = 'awake';
  private readonly ends = new Uint32Array(BATCH_FRAMES);
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private slabAt = 0;
  /** A large frame being filled from the ring, and how much of it has arrived. */
  private piece: Buffer | undefined;
  private pieceAt = 0;
  /** Small frames sent in this tick, written together at its end. */
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private batchScheduled = false;
  private readonly batchFrameMax: number;
  /** Frames the ring had no room for, in order; the first is written from `headOffset`. */
  private queue: QueuedFrame[] = [];
  private headOffset = 0;
  private queuedBytes = 0;
  private aboveHighWater = false;
  /** When this link last moved data (performance.now()), for the spin window. */
  lastActive = 0;
  private readonly closeWaiters: Array<() => void> = [];
  private readonly flushWaiters: Array<() => void> = [];

  get bufferedBytes(): number {
    return this.batchBytes + this.queuedBytes;
  }

  constructor(private readonly options: ShmLinkOptions) {
    this.peer = options.peer;
    this.channel = options.channel;
    this.delimiter = new FrameDelimiter(options.limits);
    const { maxFrameBytes, maxDepth, maxElements } = options.limits;
    this.capabilities = { maxFrameBytes, maxDepth, maxElements, preservesBoundaries: false, nativeDuplex: true };
    this.batchFrameMax = Math.min(BATCH_BYTES, options.capacity >>> 2);
    options.signals.watch(() => this.onBell(), {
      goodbye: () => this.onGoodbye(),
      gone: (why) =>
        this.finish(
          why === 'closed'
            ? new ProcwireError(ErrorCode.PEER_GONE, 'the shm peer went away')
            : new ProcwireError(ErrorCode.PROTOCOL, 'the shm peer sent an unexpected control message'),
        ),
    });
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get waitPolicy(): WaitPolicy {
    return this.options.wait;
  }

  start(events: LinkEvents): void {
    this.events = events;
    // Not synchronously: whatever the peer already wrote (even garbage that
    // closes the link) reaches the receiver after it has finished starting.
    setImmediate(() => this.service());
  }

  send(frame: Uint8Array): boolean {
    if (this.state === 'closed') return false;
    if (frame.length <= this.batchFrameMax) {
      if (!this.batchScheduled) {
        // The first small frame of a tick goes straight in (a lone call's
        // latency); the ones after it in the same tick are written together
        // at its end, published once.
        this.batchScheduled = true;
        void RESOLVED.then(this.flushBatchTask);
        if (this.queue.length === 0) return this.sendNow(frame);
      }
      this.batch.push(frame);
      this.batchBytes += frame.length;
      if (this.batchBytes >= this.batchFrameMax) this.flushBatch();
      return !this.aboveHighWater;
    }
    this.flushBatch();
    return this.sendNow(frame);
  }

  /** Writes what fits of `frame` now (nothing is queued ahead of it) and queues the rest. */
  private sendNow(frame: Uint8Array): boolean {
    let written = 0;
    if (this.queue.length === 0) {
      try {
        written = this.channel.write(frame, 0);
      } catch (error) {
        this.fail(error);
        return false;
      }
    }
    if (written === frame.length) {
      this.noteSent();
      return !this.aboveHighWater;
    }
    return this.sent({ bytes: frame, length: frame.length }, written);
  }

  private readonly flushBatchTask = (): void => {
    this.batchScheduled = false;
    this.flushBatch();
  };

  /** Writes the tick's small frames as whole records; what does not fit waits in the queue. */
  private flushBatch(): void {
    if (this.batch.length === 0 || this.state === 'closed') return;
    const frames = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    let written = 0;
    if (this.queue.length === 0) {
      try {
        for (let n = -1; written < frames.length && n !== 0; written += n) n = this.channel.writeFrames(frames, written);
      } catch (error) {
        this.fail(error);
        return;
      }
    }
    for (let i = written; i < frames.length; i++) {
      this.queue.push({ bytes: frames[i]!, length: frames[i]!.length });
      this.queuedBytes += frames[i]!.length;
    }
    if (this.queuedBytes >= HIGH_WATER_BYTES) this.aboveHighWater = true;
    this.noteSent();
  }

  /**
   * A frame whose large payloads are copied into the ring straight from the
   * caller's buffers. What does not fit at once waits in the queue *by
   * reference* (lent) and `false` is returned; `drain` comes once the queue
   * is empty. A sender that cannot wait for it calls `copyLent` (a reply, a
   * call that settles early): copying only then keeps bulk streams at one
   * copy into the ring.
   */
  sendParts(parts: readonly Uint8Array[], length: number): boolean {
    if (this.state === 'closed') return false;
    this.flushBatch();
    let written = 0;
    if (this.queue.length === 0) {
      try {
        written = this.channel.writeParts(parts, 0);
      } catch (error) {
        this.fail(error);
        return false;
      }
    }
    if (written < length) this.aboveHighWater = true;
    return this.sent({ bytes: parts, length }, written);
  }

  /** Gives the queued gathered frames buffers of their own: their senders may change theirs now. */
  copyLent(): void {
    for (let i = 0; i < this.queue.length; i++) {
      const frame = this.queue[i]!;
      if (!Array.isArray(frame.bytes)) continue;
      // Only what is left to write is copied (the head frame is partly in the ring).
      const from = i === 0 ? this.headOffset : 0;
      this.queue[i] = { bytes: copyFrom(frame.bytes as readonly Uint8Array[], frame.length, from), length: frame.length };
    }
  }

  /** Queues what of `frame` is left after `written` bytes. */
  private sent(frame: QueuedFrame, written: number): boolean {
    if (written < frame.length) {
      if (this.queue.length === 0) this.headOffset = written;
      this.queue.push(frame);
      this.queuedBytes += frame.length - written;
      if (this.queuedBytes >= HIGH_WATER_BYTES) this.aboveHighWater = true;
    }
    this.noteSent();
    return !this.aboveHighWater;
  }

  /** After a send: a reply is likely soon, so a spinning link keeps (or starts) spinning. */
  private noteSent(): void {
    if (this.state === 'sleeping' && (this.options.wait.spin || this.queue.length > 0)) {
      this.channel.awake(false);
      this.state = 'awake';
      this.idle();
    } else if (this.state === 'spinning') {
      this.lastActive = performance.now();
    }
  }

  /** True when the ring has input for us, or room for what is queued. */
  hasWork(): boolean {
    if (this.channel.hasInput()) return true;
    return this.queue.length > 0 && this.channel.room() >= this.roomWanted();
  }

  /** Spins on this link's own ring (when it is the only one spinning). */
  spinOnce(maxMicros: number): boolean {
    return this.channel.spin(maxMicros, this.queue.length > 0 ? this.roomWanted() : 0, YIELD_WHILE_SPINNING);
  }

  /** Does all the work there is, then spins or sleeps. */
  service(): void {
    if (this.state === 'closed') return;
    this.state = 'awake';
    try {
      this.flushQueue();
      this.drainInput();
      this.flushQueue();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.state === 'awake') this.idle();
  }

  /** The spin window is over (or the policy is to sleep): ask to be rung. */
  sleep(): void {
    if (this.state === 'closed') return;
    let mustWork: boolean;
    try {
      mustWork = !this.channel.sleep(this.queue.length > 0 ? this.roomWanted() : 0);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (mustWork) {
      // Something arrived between the last look and the request: work now,
      // from the event loop (never recursively from here).
      this.state = 'awake';
      setImmediate(() => this.service());
      return;
    }
    this.state = 'sleeping';
  }

  private idle(): void {
    if (this.options.wait.spin) {
      this.state = 'spinning';
      this.lastActive = performance.now();
      spinner.add(this);
    } else {
      this.sleep();
    }
  }

  private onBell(): void {
    if (this.state === 'closed') return;
    try {
      this.channel.awake(true);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.state === 'sleeping') this.service();
  }

  /** Room the first queued frame needs before writing is worth trying again. */
  private roomWanted(): number {
    const frame = this.queue[0]!;
    const left = frame.length - this.headOffset;
    if (this.headOffset === 0 && 4 + frame.length <= this.options.capacity) return 4 + frame.length;
    // A frame larger than the ring goes in pieces: wake for a good piece, not a byte.
    return Math.max(5, Math.min(left + (this.headOffset === 0 ? 4 : 0), this.options.capacity >>> 2));
  }

  private flushQueue(): void {
    while (this.queue.length > 0) {
      const frame = this.queue[0]!;
      const written = Array.isArray(frame.bytes)
        ? this.channel.writeParts(frame.bytes as readonly Uint8Array[], this.headOffset)
        : this.channel.write(frame.bytes as Uint8Array, this.headOffset);
      this.queuedBytes -= written - this.headOffset;
      if (written < frame.length) {
        this.headOffset = written;
        return;
      }
      this.queue.shift();
      this.headOffset = 0;
    }
    this.queuedBytes = 0;
    for (const waiter of this.flushWaiters.splice(0)) waiter();
    if (this.aboveHighWater) {
      this.aboveHighWater = false;
      this.events?.drain();
    }
  }

  private drainInput(): void {
    for (;;) {
      if (this.state === 'closed') return;
      if (this.piece) {
        const piece = this.piece;
        this.pieceAt = this.channel.readPiece(piece, this.pieceAt);
        if (this.pieceAt < piece.length) return;
        this.piece = undefined;
        this.deliver(piece);
        continue;
      }
      const count = this.channel.readWhole(this.slab, this.slabAt, this.ends);
      if (count > 0) {
        const start = this.slabAt;
        this.slabAt = this.ends[count - 1]!;
        this.deliver(this.slab.subarray(start, this.slabAt));
        continue;
      }
      const length = this.channel.nextLength();
      if (length === NOT_YET) return;
      // Large frames, and any the ring cannot hold whole, are read in pieces
      // straight into a buffer of their own.
      if (length > OWN_BUFFER_FROM || 4 + length > this.options.capacity) {
        this.piece = Buffer.allocUnsafe(length);
        this.pieceAt = 0;
      } else if (this.slab.length - this.slabAt < length) {
        this.slab = Buffer.allocUnsafe(SLAB_BYTES);
        this.slabAt = 0;
      } else {
        return; // cannot happen: the ring reports a half-published small frame as corrupt
      }
    }
  }

  /** Checks received bytes as a stream of whole frames and hands them to core. */
  private deliver(bytes: Buffer): void {
    this.lastActive = performance.now();
    this.delimiter.pushRuns(bytes, (source, start, end) => {
      if (this.state !== 'closed') this.events?.frames(source, start, end);
    });
  }

  /** A clean close: take what the peer wrote before it said goodbye. */
  private onGoodbye(): void {
    if (this.state === 'closed') return;
    try {
      this.drainInput();
    } catch (error) {
      return this.fail(error);
    }
    this.finish(this.delimiter.idle ? undefined : new ProcwireError(ErrorCode.PROTOCOL, 'the shm peer closed in the middle of a frame'));
  }

  /** A ring error: the peer wrote what cannot be. */
  private fail(error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof ProcwireError) return this.finish(error);
    if (code === 'EMSGSIZE') {
      const limit = this.options.limits.maxFrameBytes;
      return this.finish(
        new ProcwireError(ErrorCode.FRAME_TOO_LARGE, `the shm peer sent a frame above maxFrameBytes (${limit})`, {
          data: { limit: 'maxFrameBytes', value: limit },
        }),
      );
    }
    // EPROTO from the POSIX addon; the Windows one reports ERROR_INVALID_DATA (13).
    if (code === 'EPROTO' || (error as { winError?: number }).winError === ERROR_INVALID_DATA) {
      return this.finish(new ProcwireError(ErrorCode.PROTOCOL, 'the shm peer corrupted the ring (impossible cursor or frame length)'));
    }
    this.finish(error instanceof Error ? error : new Error(String(error)));
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.flushBatch();
    if (this.queue.length > 0) {
      // The senders' calls settle now (CLOSED): the flush must not read their buffers.
      this.copyLent();
      await Promise.race([
        new Promise<void>((resolve) => this.flushWaiters.push(resolve)),
        new Promise((resolve) => setTimeout(resolve, CLOSE_FLUSH_MS).unref()),
        this.whenClosed(),
      ]);
    }
    // (close() may have raced with the peer's own close while it waited.)
    if ((this.state as State) === 'closed') return;
    this.options.signals.sayGoodbye();
    this.finish();
  }

  destroy(error?: Error): void {
    this.finish(error);
  }

  whenClosed(): Promise<void> {
    return this.state === 'closed' ? Promise.resolve() : new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private finish(error?: Error): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    spinner.remove(this);
    this.batch = [];
    this.queue = [];
    this.piece = undefined;
    this.options.signals.close();
    this.channel.close();
    this.events?.close(error);
    for (const waiter of this.closeWaiters.splice(0)) waiter();
    for (const waiter of this.flushWaiters.splice(0)) waiter();
  }
}

/**
 * A frame of `length` bytes holding the bytes of `parts` (back to back) from
 * offset `from` on, at the same offsets; the bytes before `from` are already
 * in the ring and never read again.
 */
function copyFrom(parts: readonly Uint8Array[], length: number, from: number): Buffer {
  const copy = Buffer.allocUnsafe(length);
  let at = 0;
  for (const part of parts) {
    const end = at + part.byteLength;
    if (end > from) copy.set(at >= from ? part : part.subarray(from - at), Math.max(at, from));
    at = end;
  }
  return copy;
}
