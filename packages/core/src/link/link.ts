import type { PeerInfo } from '../contract/types.js';

/**
 * The link is the whole interface between core and a transport. Core never
 * sees a file descriptor, a path or an OS name: a transport hands it a
 * carrier of whole frames and says what the carrier can do.
 */
export interface LinkCapabilities {
  /** Largest frame this link carries (core never sends a larger one). */
  readonly maxFrameBytes: number;
  /**
   * Deepest nesting and most elements this link accepts in a frame it
   * receives (default DEFAULT_MAX_DEPTH, DEFAULT_MAX_ELEMENTS). Core
   * announces all three limits to the peer, which never sends past them.
   */
  readonly maxDepth?: number;
  readonly maxElements?: number;
  /**
   * True when the mechanism itself delivers whole messages (message queues,
   * shared memory, mailslots); false for byte streams (sockets, pipes).
   * Informational: either way the link delivers whole, checked frames.
   */
  readonly preservesBoundaries: boolean;
  /**
   * True when one OS object carries both directions. One-way mechanisms
   * (pipes, FIFOs, mailslots) are paired by their transport into one duplex
   * link; core always sees duplex links.
   */
  readonly nativeDuplex: boolean;
}

export interface LinkEvents {
  /**
   * One or more whole frames lying back to back in `source[start, end)`;
   * each is exactly one MessagePack object that has passed the structural
   * checks (size, depth, element count, accepted extensions). A range rather
   * than views, so the receiver decodes a whole run straight from the link's
   * read buffer in one go. Message-oriented links pass one frame per call.
   * The receiver owns the buffer: a link never writes into it afterwards
   * (decoded binary payloads may alias it).
   */
  frames(source: Buffer, start: number, end: number): void;
  /**
   * A message-oriented link received a frame that failed the structural
   * checks. It was dropped; the link stays up (unlike a byte stream, the next
   * message starts clean), and the receiver counts and reports it. `frame`
   * holds its bytes (from its start; they may run on past its end) when the
   * link knows where it began: the receiver then fails the call or stream
   * whose msgid it can still read.
   */
  malformed?(error: Error, frame?: Buffer): void;
  /**
   * The send queue drained below its high-water mark, and the link holds no
   * lent parts (see `sendParts`). A link whose `send` or `sendParts` returned
   * false reports it later (never from within that call), unless it closes.
   */
  drain(): void;
  /** The link is gone; `error` says why when it was not a clean close. */
  close(error?: Error): void;
}

export interface Link {
  readonly capabilities: LinkCapabilities;
  readonly peer: PeerInfo;
  /** Installs the receiver. Called once, before any frame is delivered. */
  start(events: LinkEvents): void;
  /**
   * Queues one whole frame for sending. Returns false when the queue is above
   * its high-water mark: the caller should wait for `drain` before sending
   * more of a bulk flow. Never throws for a closed link (the frame is dropped
   * and `close` has been or will be reported).
   */
  send(frame: Uint8Array): boolean;
  /**
   * Optional: queues one frame given as parts written back to back (large
   * binary payloads are parts of their own, see wire/gather.ts), so they can
   * be copied to the mechanism straight from the caller's memory. What it
   * cannot write at once it may keep *by reference*: the parts are then lent
   * to the link, it returns false, and its next `drain` says it holds none of
   * them any more. Until then their bytes must not change, unless the sender
   * first calls `copyLent` (which a link that lends must offer). Links
   * without `sendParts` get joined frames.
   */
  sendParts?(parts: readonly Uint8Array[], length: number): boolean;
  /**
   * With `sendParts`: copies what the link still holds by reference into
   * memory of its own, so the sender may hand those buffers back to their
   * owner before `drain` (a reply whose handler is done, a call that settled
   * early, a stream that stopped).
   */
  copyLent?(): void;
  /**
   * Bytes accepted by `send` that the peer has not taken yet (in this
   * process's queues and the OS buffers it can see). The server drops a
   * connection whose backlog passes its send-queue limit.
   */
  readonly bufferedBytes: number;
  /** Flushes what is queued, then closes. Resolves once closed. */
  close(): Promise<void>;
  /** Closes at once, dropping what is queued. */
  destroy(error?: Error): void;
  readonly closed: boolean;
}

/**
 * A source of links: the listening side of a transport. Core's server takes
 * one and serves every link it yields.
 */
export interface LinkAcceptor {
  /** The endpoint URL clients can use to reach this server. */
  readonly url: string;
  /** Installs the callback for each new link, and for the end of accepting. */
  start(onLink: (link: Link) => void, onEnd?: (error?: Error) => void): void;
  /** Stops accepting and releases the endpoint (removes socket files and other names). */
  close(): Promise<void>;
}
