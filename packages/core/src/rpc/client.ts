import { isChannel } from '../contract/defineChannel.js';
import { describeIssues, schemaThrew, validate, type Validation } from '../contract/validate.js';
import { mustRunSchema } from '../contract/wireSchemas.js';
import type { CallOptions, Channel, EventName, EventPayload, RpcProxy, Schema, StreamOptions, StreamProxy } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { describePeerValue } from '../wire/describe.js';
import type { Link } from '../link/link.js';
import { ClientStreamImpl, type StreamInlet } from '../streams/clientStream.js';
import { encode } from '../wire/codec.js';
import { encodeFor, sendEncoded, type EncodedFrame } from '../wire/gather.js';
import { decodeFrames } from '../wire/decodeFrames.js';
import { MAX_MSGID, MessageType, PING_METHOD, REFUSED_NOTIFICATION } from '../wire/constants.js';
import { errorFromWire } from '../wire/errors.js';
import { buildRoutes, type Route } from './routes.js';
import { Heartbeat } from './heartbeat.js';
import { tooManyPending } from './serverLimits.js';
import { checkTimeout, MAX_TIMER_MS, resolveClientOptions } from './clientOptions.js';
import { onAbort } from './onAbort.js';
import { ClientEvents } from './clientEvents.js';
import { ClientHandshake } from './clientHandshake.js';
import { PendingTable, type PendingCall } from './pendingCalls.js';
import { announcedLimits, limitsOf, strictestLimits, type FrameLimits } from '../wire/limits.js';
import { checkOutgoing, refusalError } from '../wire/outgoing.js';
import { peekMessage } from '../wire/peek.js';

export { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS } from './clientOptions.js';
export interface ClientOptions {
  /** Timeout of every call that does not set its own (default 30 s). */
  readonly callTimeoutMs?: number;
  /** How long to wait for the server's handshake answer (default 5 s). */
  readonly handshakeTimeoutMs?: number;
  /** Validate outputs, event payloads and stream items (default true). */
  readonly validate?: boolean;
  /**
   * Calls and streams this client may have running at once (default 1024);
   * the next is refused at once with TOO_MANY_PENDING.
   */
  readonly maxPendingCalls?: number;
  /**
   * After this long without a frame from the server the client sends a
   * `$/ping`; after twice as long it calls `onUnresponsive` (default 1000 ms;
   * 0 turns the heartbeat off). Calls keep their own timeouts either way.
   */
  readonly heartbeatMs?: number;
  /** The server has sent nothing for `silentMs` (it may be stopped, or stuck in a long synchronous task). */
  readonly onUnresponsive?: (silentMs: number) => void;
  /** The server answers again after `onUnresponsive`. */
  readonly onResponsive?: () => void;
  /**
   * Called for problems no caller can be told about: an event payload the
   * schema rejected, a malformed message. Default: a process warning.
   */
  readonly onError?: (error: ProcwireError) => void;
}

export type EventListener<C extends Channel<any>, E extends EventName<C>> = (payload: EventPayload<C, E>) => void;

export interface Client<C extends Channel<any> = Channel<any>> {
  readonly channel: C;
  /** One typed function per rpc method. */
  readonly rpc: RpcProxy<C>;
  /** One typed function per stream method; each returns an async iterable. */
  readonly stream: StreamProxy<C>;
  on<E extends EventName<C>>(event: E, listener: EventListener<C, E>): this;
  once<E extends EventName<C>>(event: E, listener: EventListener<C, E>): this;
  off<E extends EventName<C>>(event: E, listener?: EventListener<C, E>): this;
  /** False while the heartbeat finds the server silent (see `heartbeatMs`). */
  readonly responsive: boolean;
  /** Resolves when the link is gone; with the error when the peer went away. */
  readonly closed: Promise<ProcwireError | undefined>;
  /** Rejects what is pending with CLOSED, then closes the link. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Connects a channel client over a link: says hello, checks the server's
 * channel name and version, and resolves once both match.
 */
export async function createClient<C extends Channel<any>>(channel: C, link: Link, options: ClientOptions = {}): Promise<Client<C>> {
  if (!isChannel(channel)) {
    link.destroy();
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'connect: the first argument must come from defineChannel()');
  }
  let client: ChannelClient<C>;
  try {
    client = new ChannelClient(channel, link, options);
  } catch (error) {
    // The link exists already: an option refused here must not leave it open.
    link.destroy();
    throw error;
  }
  await client.handshake(client.handshakeTimeoutMs);
  return client as unknown as Client<C>;
}

class ChannelClient<C extends Channel<any>> implements StreamInlet {
  readonly rpc: Record<string, (input: unknown, options?: CallOptions) => Promise<unknown>> = {};
  readonly stream: Record<string, (input: unknown, options?: StreamOptions) => ClientStreamImpl<unknown>> = {};
  readonly closed: Promise<ProcwireError | undefined>;
  private readonly routes: Map<string, Route>;
  private readonly pending = new PendingTable();
  private readonly streams = new Map<number, ClientStreamImpl<unknown>>();
  private readonly callTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  private readonly maxPendingCalls: number;
  private readonly validateOutput: boolean;
  /** Per member, the schema its received values go through (none with `validate: false`, unless it transforms). */
  private readonly received = new Map<Route, Schema | undefined>();
  private readonly events: ClientEvents;
  private readonly hello: ClientHandshake;
  private heartbeat: Heartbeat | undefined;
  private nextId = 0;
  /** What the server accepts: the stricter of this link's limits and those the server announced. */
  private sendLimits: FrameLimits;
  private ended: ProcwireError | undefined;
  private closing: Promise<void> | undefined;
  private resolveClosed!: (error: ProcwireError | undefined) => void;

  constructor(
    readonly channel: C,
    private readonly link: Link,
    private readonly options: ClientOptions,
  ) {
    this.routes = buildRoutes(channel);
    this.sendLimits = limitsOf(link.capabilities);
    const resolved = resolveClientOptions(options);
    this.callTimeoutMs = resolved.callTimeoutMs;
    this.handshakeTimeoutMs = resolved.handshakeTimeoutMs;
    this.maxPendingCalls = resolved.maxPendingCalls;
    const heartbeatMs = resolved.heartbeatMs;
    this.validateOutput = options.validate ?? true;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    for (const route of this.routes.values()) {
      // With validation off, a schema that transforms still runs: the types promise its output.
      const schema = this.validateOutput || mustRunSchema(route.output) ? route.output : undefined;
      this.received.set(route, schema);
      if (route.kind === 'rpc') this.rpc[route.name] = (input, opts) => this.call(route, input, opts);
      if (route.kind === 'stream') {
        this.stream[route.name] = (input, opts) => new ClientStreamImpl(this, route.wireName, input, schema, opts);
      }
    }
    Object.freeze(this.rpc);
    Object.freeze(this.stream);
    this.events = new ClientEvents(channel, this.routes, this.received, (error) => this.reportError(error));
    this.hello = new ClientHandshake(channel, link);
    if (heartbeatMs > 0) this.heartbeat = this.startHeartbeat(heartbeatMs);
    link.start({
      frames: (source, start, end) => {
        this.heartbeat?.heard();
        decodeFrames(source, start, end, this.onMessage, this.onUndecodable);
      },
      drain: () => {},
      malformed: (error, frame) => this.onUndecodable(error, frame),
      close: (error) => this.onLinkClose(error),
    });
  }

  private startHeartbeat(intervalMs: number): Heartbeat {
    return new Heartbeat(intervalMs, {
      ping: () => {
        // Only after the handshake, and never counted against the caller's limit.
        if (this.hello.waiting || this.ended) return;
        const id = this.allocateId();
        this.pending.add(id, { kind: 'ping' });
        this.link.send(encode([MessageType.REQUEST, id, PING_METHOD, []]));
      },
      unresponsive: (silentMs) => this.options.onUnresponsive?.(silentMs),
      responsive: () => this.options.onResponsive?.(),
    });
  }

  get responsive(): boolean {
    return this.heartbeat?.responsive ?? true;
  }

  async handshake(timeoutMs: number): Promise<void> {
    const hello = await this.hello.run(timeoutMs, this.closed);
    // Never send a frame the server would refuse: it would have to drop the connection.
    this.sendLimits = strictestLimits(this.sendLimits, announcedLimits(hello));
  }

  // ---------------------------------------------------------------- rpc

  private call(route: Route, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    if (this.ended) return Promise.reject(this.ended);
    const signal = options?.signal;
    if (signal?.aborted) {
      return Promise.reject(new ProcwireError(ErrorCode.CANCELLED, `${route.wireName} was cancelled`, { cause: signal.reason }));
    }
    const timeoutMs = options?.timeoutMs === undefined ? this.callTimeoutMs : checkTimeout(options.timeoutMs, 'timeoutMs');
    if (this.atPendingLimit) return Promise.reject(tooManyPending(`${route.wireName}: this client`, this.maxPendingCalls));
    let frame: EncodedFrame;
    const id = this.allocateId();
    try {
      frame = encodeFor(this.link, [MessageType.REQUEST, id, route.wireName, [input]]);
    } catch (error) {
      return Promise.reject(
        new ProcwireError(ErrorCode.INVALID_ARGUMENT, `input of ${route.wireName} is not encodable: ${(error as Error).message}`),
      );
    }
    const refusal = checkOutgoing(frame, this.sendLimits);
    if (refusal) return Promise.reject(refusalError(refusal, `request to ${route.wireName}`, frame.length, ErrorCode.INVALID_ARGUMENT));
    return new Promise<unknown>((resolve, reject) => {
      const entry: PendingCall = { kind: 'call', resolve, reject, route, timer: undefined, removeAbortListener: undefined };
      if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
        entry.timer = setTimeout(() => {
          this.abandon(id, new ProcwireError(ErrorCode.TIMEOUT, `${route.wireName} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        entry.timer.unref();
      }
      if (signal) {
        entry.removeAbortListener = onAbort(signal, () =>
          this.abandon(id, new ProcwireError(ErrorCode.CANCELLED, `${route.wireName} was cancelled`, { cause: signal.reason })),
        );
      }
      this.pending.add(id, entry);
      // Lent until the call settles: an answer means the server has read it all; abandon() copies.
      sendEncoded(this.link, frame, true);
    });
  }

  /** Whether the caller's calls and streams (heartbeat pings aside) are at maxPendingCalls. */
  private get atPendingLimit(): boolean {
    return this.pending.calls + this.streams.size >= this.maxPendingCalls;
  }

  /** Gives up on a call locally and tells the server to stop its handler. */
  private abandon(id: number, error: ProcwireError): void {
    const entry = this.pending.take(id);
    if (entry?.kind !== 'call') return;
    this.link.send(encode([MessageType.CANCEL, id]));
    // The caller may reuse its input once the call settles: the link must stop reading it.
    this.link.copyLent?.();
    entry.reject(error);
  }

  private onResponse(message: unknown[]): void {
    const [, id, error, result] = message;
    if (message.length !== 4 || typeof id !== 'number') return this.report('malformed response');
    const entry = this.pending.take(id);
    if (!entry) return; // answer to a call already timed out or cancelled
    if (entry.kind === 'ping') return; // any answer, even an error from a server of another kind, is a sign of life
    if (error !== null && error !== undefined) return entry.reject(errorFromWire(error));
    const schema = this.received.get(entry.route);
    if (!schema) return entry.resolve(result);
    const threw = (cause: unknown) => entry.reject(schemaThrew(`the output of ${entry.route.wireName}`, cause));
    let checked: Validation | Promise<Validation>;
    try {
      checked = validate(schema, result);
    } catch (cause) {
      return threw(cause);
    }
    if (checked instanceof Promise) checked.then((v) => this.resolveOutput(entry, v), threw);
    else this.resolveOutput(entry, checked);
  }

  private resolveOutput(entry: PendingCall, checked: Validation): void {
    if (checked.ok) return entry.resolve(checked.value);
    entry.reject(
      new ProcwireError(ErrorCode.INVALID_OUTPUT, `invalid output from ${entry.route.wireName}: ${describeIssues(checked.issues)}`),
    );
  }

  private allocateId(): number {
    // msgpack-rpc ids are uint32; skip ids still in use after a wrap-around.
    do {
      this.nextId = this.nextId >= MAX_MSGID ? 0 : this.nextId + 1;
    } while (this.pending.has(this.nextId) || this.streams.has(this.nextId));
    return this.nextId;
  }

  // ------------------------------------------------------------- streams

  openStream(stream: ClientStreamImpl<unknown>, method: string, input: unknown, credit: number): number | ProcwireError {
    if (this.ended) return this.ended;
    if (this.atPendingLimit) return tooManyPending(`${method}: this client`, this.maxPendingCalls);
    const id = this.allocateId();
    let frame: Buffer;
    try {
      frame = encode([MessageType.STREAM_OPEN, id, method, [input], credit]);
    } catch (error) {
      return new ProcwireError(ErrorCode.INVALID_ARGUMENT, `input of ${method} is not encodable: ${(error as Error).message}`);
    }
    const refusal = checkOutgoing(frame, this.sendLimits);
    if (refusal) return refusalError(refusal, `stream request to ${method}`, frame.length, ErrorCode.INVALID_ARGUMENT);
    this.streams.set(id, stream);
    this.link.send(frame);
    return id;
  }

  grantCredit(id: number, credit: number): void {
    if (this.streams.has(id)) this.link.send(encode([MessageType.STREAM_CREDIT, id, credit]));
  }

  cancelStream(id: number): void {
    if (this.streams.delete(id) && !this.ended) this.link.send(encode([MessageType.CANCEL, id]));
  }

  // -------------------------------------------------------------- events

  on(event: string, listener: (payload: unknown) => void): this {
    this.events.on(event, listener);
    return this;
  }

  once(event: string, listener: (payload: unknown) => void): this {
    this.events.once(event, listener);
    return this;
  }

  off(event: string, listener?: (payload: unknown) => void): this {
    this.events.off(event, listener);
    return this;
  }

  private onNotification(message: unknown[]): void {
    const [, method, params] = message;
    if (message.length !== 3 || typeof method !== 'string' || !Array.isArray(params)) {
      return this.report('malformed notification');
    }
    const route = this.routes.get(method);
    if (route?.kind !== 'event') return this.report(`unknown event ${method}`);
    this.events.receive(route, params[0]);
  }

  // ------------------------------------------------------------ incoming

  private readonly onUndecodable = (error: Error, frame?: Buffer, start?: number, end?: number): void => {
    if (this.hello.waiting) return this.hello.fail();
    this.report(`undecodable frame: ${error.message}`);
    const message = frame ? peekMessage(frame, start, end) : undefined;
    if (message) this.failDropped(message.type, message.id, error);
  };

  /** A response or stream frame was dropped unread: its call or stream ends with the error, never in silence. */
  private failDropped(type: number, id: number, cause: Error): void {
    const error =
      cause instanceof ProcwireError && cause.code === ErrorCode.FRAME_TOO_LARGE
        ? cause
        : new ProcwireError(ErrorCode.PROTOCOL, `a message from the server could not be decoded: ${cause.message}`, { cause });
    if (type === MessageType.RESPONSE) {
      const entry = this.pending.take(id);
      if (entry?.kind === 'call') entry.reject(error);
      return;
    }
    if (type !== MessageType.STREAM_ITEM && type !== MessageType.STREAM_END) return;
    const stream = this.streams.get(id);
    if (!stream) return;
    // A lost item leaves the stream incomplete: the producer is told to stop.
    if (type === MessageType.STREAM_ITEM) this.cancelStream(id);
    else this.streams.delete(id);
    stream.onEnd(error);
  }

  private readonly onMessage = (message: unknown): boolean | void => {
    if (this.link.closed) return false;
    const first = Array.isArray(message) ? message[0] : undefined;
    // Events may precede the hello: a server sends them to every connection,
    // even one whose hello it has not read yet.
    if (this.hello.waiting && first !== MessageType.HELLO && first !== MessageType.NOTIFICATION) return this.hello.fail();
    if (!this.hello.done && first === MessageType.NOTIFICATION && (message as unknown[])[1] === REFUSED_NOTIFICATION) {
      return this.hello.refused((message as unknown[])[2]);
    }
    if (!Array.isArray(message)) return this.report('a message must be an array');
    switch (message[0]) {
      case MessageType.RESPONSE:
        return this.onResponse(message);
      case MessageType.NOTIFICATION:
        return this.onNotification(message);
      case MessageType.STREAM_ITEM: {
        const [, id, item] = message;
        if (message.length !== 3 || typeof id !== 'number') return this.report('malformed stream item');
        return this.streams.get(id)?.onItem(item);
      }
      case MessageType.STREAM_END: {
        const [, id, error] = message;
        if (message.length !== 3 || typeof id !== 'number') return this.report('malformed stream end');
        const stream = this.streams.get(id);
        if (!stream) return;
        this.streams.delete(id);
        return stream.onEnd(error === null || error === undefined ? undefined : errorFromWire(error));
      }
      case MessageType.HELLO:
        if (!this.hello.onHello(message[1])) this.report('unexpected hello');
        return;
      default:
        return this.report(`unexpected message type ${describePeerValue(message[0])}`);
    }
  };

  private report(message: string): void {
    this.reportError(new ProcwireError(ErrorCode.PROTOCOL, message));
  }

  private reportError(error: ProcwireError): void {
    if (this.options.onError) this.options.onError(error);
    else process.emitWarning(`procwire client: ${error.code}: ${error.message}`);
  }

  // ----------------------------------------------------------- lifecycle

  private failEverything(error: ProcwireError): void {
    this.heartbeat?.stop();
    this.pending.rejectAll(error);
    for (const stream of this.streams.values()) stream.onEnd(error);
    this.streams.clear();
  }

  private onLinkClose(cause?: Error): void {
    if (!this.ended) {
      // A link that ended because the server broke the protocol says so (PROTOCOL,
      // FRAME_TOO_LARGE); a transport that knows more about the loss (a worker's
      // exit status) passes its own PEER_GONE.
      this.ended = cause instanceof ProcwireError ? cause : new ProcwireError(ErrorCode.PEER_GONE, 'the server went away', { cause });
      this.failEverything(this.ended);
      this.resolveClosed(this.ended);
    } else {
      this.resolveClosed(undefined);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.ended) {
        this.ended = new ProcwireError(ErrorCode.CLOSED, 'the client was closed');
        this.failEverything(this.ended);
      }
      await this.link.close();
      this.resolveClosed(undefined);
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
