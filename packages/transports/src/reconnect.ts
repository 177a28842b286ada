import { checkCallback, ErrorCode, ProcwireError, type CallOptions, type Channel, type Client, type StreamOptions } from '@procwire/core';

/**
 * How a client started with `connect(..., { reconnect })` gets back to its
 * server after losing it: attempts after `initialDelayMs`, growing by
 * `factor` up to `maxDelayMs`, each delay varied by ±`jitter` (a fraction)
 * so many clients of one restarted server do not knock in step.
 */
export interface ReconnectOptions {
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly factor?: number;
  readonly jitter?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  readonly maxAttempts?: number;
  /** The connection was lost; calls that were in flight have failed with `error`. */
  readonly onDisconnect?: (error: ProcwireError) => void;
  /** Connected again, after `attempts` attempts. */
  readonly onReconnect?: (attempts: number) => void;
}

/** setTimeout's ceiling: a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Backoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly maxAttempts: number;
}

/** The `reconnect` option checked: undefined when off, else its options. */
export function checkReconnect(reconnect: unknown): ReconnectOptions | undefined {
  if (reconnect === undefined || reconnect === false) return undefined;
  if (reconnect === true) return {};
  if (typeof reconnect !== 'object' || reconnect === null || Array.isArray(reconnect)) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'reconnect must be true, false or an object of backoff options');
  }
  const options = reconnect as ReconnectOptions;
  checkCallback(options.onDisconnect, 'reconnect.onDisconnect');
  checkCallback(options.onReconnect, 'reconnect.onReconnect');
  resolveBackoff(options);
  return options;
}

function resolveBackoff(options: ReconnectOptions): Backoff {
  const backoff = {
    initialDelayMs: options.initialDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 5000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? 0.2,
    maxAttempts: options.maxAttempts ?? Infinity,
  };
  const bad = (what: string) => new ProcwireError(ErrorCode.INVALID_ARGUMENT, `reconnect.${what}`);
  if (!(backoff.initialDelayMs >= 0 && Number.isFinite(backoff.initialDelayMs)))
    throw bad('initialDelayMs must be a non-negative number of ms');
  if (!(backoff.maxDelayMs >= backoff.initialDelayMs && backoff.maxDelayMs <= MAX_TIMER_MS && Number.isFinite(backoff.maxDelayMs))) {
    throw bad(`maxDelayMs must be a number of ms not below initialDelayMs and at most ${MAX_TIMER_MS}`);
  }
  if (!(backoff.factor >= 1 && Number.isFinite(backoff.factor))) throw bad('factor must be a number ≥ 1');
  if (!(typeof backoff.jitter === 'number' && backoff.jitter >= 0 && backoff.jitter < 1)) throw bad('jitter must be a fraction in [0, 1)');
  if (!(backoff.maxAttempts >= 1 && (Number.isSafeInteger(backoff.maxAttempts) || backoff.maxAttempts === Infinity))) {
    throw bad('maxAttempts must be a whole number ≥ 1 (or Infinity)');
  }
  return backoff;
}

/** The wait before attempt `attempt` (1-based). */
function backoffDelay(backoff: Backoff, attempt: number): number {
  const base = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * backoff.factor ** (attempt - 1));
  return Math.max(0, base * (1 + backoff.jitter * (2 * Math.random() - 1)));
}

type Listener = (payload: unknown) => void;

/**
 * A client that outlives its connections. Its `rpc`, `stream` and `on`
 * stay the same objects while the connection underneath is replaced.
 * Nothing is replayed: calls in flight when the connection is lost fail
 * with PEER_GONE (the server may or may not have run them, only the caller
 * can know whether repeating is safe), and calls made while there is no
 * connection fail at once with PEER_GONE.
 */
export function reconnectingClient<C extends Channel<any>>(
  channel: C,
  first: Client<C>,
  open: () => Promise<Client<C>>,
  options: ReconnectOptions,
): Client<C> {
  const backoff = resolveBackoff(options);
  return new ReconnectingClient(channel, first, open, backoff, options) as unknown as Client<C>;
}

class ReconnectingClient<C extends Channel<any>> {
  readonly rpc: Record<string, (input: unknown, options?: CallOptions) => Promise<unknown>> = {};
  readonly stream: Record<string, (input: unknown, options?: StreamOptions) => unknown> = {};
  readonly closed: Promise<ProcwireError | undefined>;
  private resolveClosed!: (error: ProcwireError | undefined) => void;
  /** Listeners by event, each with the function registered on the current connection. */
  private readonly listeners = new Map<string, Map<Listener, Listener>>();
  private connected = true;
  /** Set once no more attempts will be made: calls then fail with this, not "reconnecting". */
  private gaveUp: ProcwireError | undefined;
  private closing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly channel: C,
    private current: Client<C>,
    private readonly open: () => Promise<Client<C>>,
    private readonly backoff: Backoff,
    private readonly options: ReconnectOptions,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    const inner = current as unknown as { rpc: Record<string, unknown>; stream: Record<string, unknown> };
    for (const name of Object.keys(inner.rpc)) {
      this.rpc[name] = (input, callOptions) => {
        if (!this.connected) return Promise.reject(this.notConnected());
        return (this.current.rpc as Record<string, (i: unknown, o?: CallOptions) => Promise<unknown>>)[name]!(input, callOptions);
      };
    }
    // A stream asked for while disconnected comes from the lost connection, which ends it with its PEER_GONE.
    for (const name of Object.keys(inner.stream)) {
      this.stream[name] = (input, streamOptions) =>
        (this.current.stream as Record<string, (i: unknown, o?: StreamOptions) => unknown>)[name]!(input, streamOptions);
    }
    Object.freeze(this.rpc);
    Object.freeze(this.stream);
    this.watch(current);
  }

  get responsive(): boolean {
    return this.connected && this.current.responsive;
  }

  private notConnected(): ProcwireError {
    return this.gaveUp ?? new ProcwireError(ErrorCode.PEER_GONE, 'the server went away; reconnecting');
  }

  /** No more attempts: the client is closed for good, with `error`. */
  private giveUp(error: ProcwireError): void {
    this.gaveUp = error;
    this.resolveClosed(error);
  }

  private watch(client: Client<C>): void {
    void client.closed.then((error) => {
      if (this.closing || client !== this.current) return;
      this.connected = false;
      const lost = error ?? new ProcwireError(ErrorCode.PEER_GONE, 'the connection ended');
      this.options.onDisconnect?.(lost);
      this.scheduleAttempt(1);
    });
  }

  private scheduleAttempt(attempt: number): void {
    if (attempt > this.backoff.maxAttempts) {
      this.giveUp(
        new ProcwireError(
          ErrorCode.PEER_GONE,
          `the server went away and ${this.backoff.maxAttempts} reconnect attempts failed; no longer reconnecting`,
        ),
      );
      return;
    }
    this.retryTimer = setTimeout(() => void this.attempt(attempt), backoffDelay(this.backoff, attempt));
  }

  private async attempt(attempt: number): Promise<void> {
    let client: Client<C>;
    try {
      client = await this.open();
    } catch (error) {
      // Another server (or version) at the address will not become right by retrying.
      const code = (error as ProcwireError).code;
      if (code === ErrorCode.CHANNEL_MISMATCH || code === ErrorCode.VERSION_MISMATCH || code === ErrorCode.ACCESS_DENIED) {
        this.giveUp(
          new ProcwireError(code, `${(error as ProcwireError).message}; no longer reconnecting`, {
            cause: error,
            data: (error as ProcwireError).data,
          }),
        );
        return;
      }
      if (!this.closing) this.scheduleAttempt(attempt + 1);
      return;
    }
    if (this.closing) {
      await client.close();
      return;
    }
    this.current = client;
    for (const [event, registered] of this.listeners) {
      for (const active of registered.values()) client.on(event as never, active as never);
    }
    this.connected = true;
    this.watch(client);
    this.options.onReconnect?.(attempt);
  }

  on(event: string, listener: Listener): this {
    this.current.on(event as never, listener as never);
    let registered = this.listeners.get(event);
    if (!registered) this.listeners.set(event, (registered = new Map()));
    registered.set(listener, listener);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapped: Listener = (payload) => {
      this.off(event, listener);
      listener(payload);
    };
    this.current.on(event as never, wrapped as never);
    let registered = this.listeners.get(event);
    if (!registered) this.listeners.set(event, (registered = new Map()));
    registered.set(listener, wrapped);
    return this;
  }

  off(event: string, listener?: Listener): this {
    const registered = this.listeners.get(event);
    if (listener === undefined) {
      this.current.off(event as never);
      this.listeners.delete(event);
      return this;
    }
    const active = registered?.get(listener);
    if (active) this.current.off(event as never, active as never);
    registered?.delete(listener);
    return this;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.retryTimer);
      await this.current.close();
      this.resolveClosed(undefined);
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
