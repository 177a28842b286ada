import { ErrorCode, ProcwireError } from '@procwire/core';

/** Connections of one server that may be in their transport handshake at once. */
const DEFAULT_MAX_HANDSHAKES = 64;
/**
 * How long a transport handshake may take (the exchange a transport does
 * before a connection is a link: a secret, TLS, a FIFO or queue request, a
 * shared-memory offer): the server's deadline for each connection, and how
 * long a client waits for the server's side of it. Not core's procwire
 * handshake (core's DEFAULT_HANDSHAKE_TIMEOUT_MS), which runs over the link
 * afterwards.
 */
export const TRANSPORT_HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * What a client is told when a server refused its connection because
 * DEFAULT_MAX_HANDSHAKES others were in their transport handshake (the
 * server's gate, below). `or` adds what else the client cannot tell apart
 * from that refusal. connect's waitMs retries it.
 */
export function handshakeLimitRefusal(where: string, options: { cause?: unknown; or?: string } = {}): ProcwireError {
  return new ProcwireError(
    ErrorCode.CONNECT_FAILED,
    `${where} refused the connection: a server takes at most ${DEFAULT_MAX_HANDSHAKES} connections in their transport handshake at once (maxHandshakes), and it had that many${options.or ? `, ${options.or}` : ''}; connect with waitMs to try again until one is free`,
    { cause: options.cause, data: { limit: 'maxHandshakes', value: DEFAULT_MAX_HANDSHAKES } },
  );
}

export interface HandshakeSlot {
  /** Aborted when the handshake ran out of time (or the gate closed); the transport then drops the connection. */
  readonly signal: AbortSignal;
  /** Frees the slot: the handshake is over, whichever way it ended. Idempotent. */
  release(): void;
}

/**
 * Bounds the connections a server is still shaking hands with (a shared
 * secret, TLS, a FIFO or queue request, a shared-memory offer), so peers
 * that connect and then say nothing cannot pile up: past the limit a new
 * connection is refused at once, and each one gets a deadline.
 */
export class HandshakeGate {
  private inFlight = 0;
  private refusedCount = 0;
  private timedOutCount = 0;
  private readonly open = new Set<AbortController>();

  constructor(
    readonly maxHandshakes = DEFAULT_MAX_HANDSHAKES,
    readonly timeoutMs = TRANSPORT_HANDSHAKE_TIMEOUT_MS,
  ) {}

  /** A slot for one new connection, or undefined when the gate is full (refuse the connection). */
  enter(): HandshakeSlot | undefined {
    if (this.inFlight >= this.maxHandshakes) {
      this.refusedCount++;
      return undefined;
    }
    this.inFlight++;
    const controller = new AbortController();
    this.open.add(controller);
    const timer = setTimeout(() => {
      this.timedOutCount++;
      controller.abort(new ProcwireError(ErrorCode.TIMEOUT, `the transport handshake did not finish within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    timer.unref();
    let released = false;
    return {
      signal: controller.signal,
      release: () => {
        if (released) return;
        released = true;
        clearTimeout(timer);
        this.open.delete(controller);
        this.inFlight--;
      },
    };
  }

  get stats(): { inFlight: number; refused: number; timedOut: number } {
    return { inFlight: this.inFlight, refused: this.refusedCount, timedOut: this.timedOutCount };
  }

  /** Aborts every handshake still running (the server is closing). */
  close(): void {
    for (const controller of this.open) {
      controller.abort(new ProcwireError(ErrorCode.CLOSED, 'the server closed'));
    }
  }
}
