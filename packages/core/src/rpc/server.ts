import { isChannel } from '../contract/defineChannel.js';
import { schemaThrew } from '../contract/validate.js';
import type { Channel, EventInput, EventName, Handlers, PeerInfo } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import type { Link, LinkAcceptor } from '../link/link.js';
import { encode } from '../wire/codec.js';
import { MessageType, REFUSED_NOTIFICATION } from '../wire/constants.js';
import { toProcwireError } from '../wire/errors.js';
import { resolveFrameLimits, type FrameLimits } from '../wire/limits.js';
import { refusalError, refusalFor, shapeOf } from '../wire/outgoing.js';
import type { CallContext } from './callContext.js';
import { ServerConnection, type ServerConnectionHost } from './serverConnection.js';
import { buildRoutes, type Route } from './routes.js';
import { Admission } from './admission.js';
import { compileAllow, resolveServerLimits, type AllowRule, type ServerLimits } from './serverLimits.js';

export interface ServerOptions extends Partial<ServerLimits> {
  /**
   * Who may connect (uids/gids, or a function of `ctx.peer`'s fields). Others
   * are refused with ACCESS_DENIED when they arrive, before a frame is read.
   */
  readonly allow?: AllowRule;
  /** Called for each connection refused (allow, connection limits) and each slow consumer dropped. */
  readonly onRefused?: (error: ProcwireError, peer: PeerInfo) => void;
  /** Validate every input against the contract before a handler sees it (default true). */
  readonly validate?: boolean;
  /**
   * Called when a peer sends something that breaks the protocol but does not
   * end its connection (a malformed message); the peer is otherwise ignored.
   */
  readonly onProtocolError?: (error: ProcwireError, peer: PeerInfo) => void;
  /**
   * Whether a client sees the message of an error its handler threw
   * (default true). With false, anything but a ProcwireError reaches the
   * client as HANDLER_ERROR "the handler failed", and only `onHandlerError`
   * sees the error itself. A ProcwireError a handler throws on purpose
   * (`new ProcwireError('OUT_OF_STOCK', …)`) reaches the client as it is.
   */
  readonly exposeHandlerErrors?: boolean;
  /** Called with every error a handler (rpc or stream) throws while its caller still waits: the place to log it. */
  readonly onHandlerError?: (error: unknown, info: HandlerErrorInfo) => void;
  /**
   * Frame limits of this server's connections (defaults: 4 MiB, depth 64,
   * 100k elements). `emit` refuses a payload past them at once.
   */
  readonly limits?: Partial<FrameLimits>;
  /**
   * Called for each client an event was not sent to because that client
   * announced lower frame limits than the event needs (FRAME_TOO_LARGE
   * naming the limit). The other clients get the event.
   */
  readonly onEventSkipped?: (error: ProcwireError, peer: PeerInfo) => void;
}

export interface HandlerErrorInfo {
  /** The wire method name, e.g. `calc.add`. */
  readonly method: string;
  readonly peer: PeerInfo;
}

/** What a client is told of a handler's error when the server does not expose handler errors. */
export const GENERIC_HANDLER_ERROR_MESSAGE = 'the handler failed';

/** How long a refused connection may stay open for its peer to read why. */
const REFUSAL_LINGER_MS = 1000;
/** Past this many refused connections waiting for their peers, the next is closed at once. */
const MAX_LINGERING_REFUSALS = 64;

export interface CloseOptions {
  /** How long running calls and streams may take to finish (default 0: stop them at once). */
  readonly graceMs?: number;
}

export interface ServerStats {
  readonly connections: number;
  readonly protocolErrors: number;
  /** Connections refused on arrival (allow rule, connection limits). */
  readonly refused: number;
  /** Connections dropped because they read too slowly (send-queue limit). */
  readonly slowConsumers: number;
}

export interface Server<C extends Channel<any> = Channel<any>> {
  readonly channel: C;
  /** The endpoint URL clients connect to (with the real port for `tcp://host:0`). */
  readonly url: string;
  /**
   * Sends an event to every connected client. Returns how many it was sent to.
   * A client that has more than `maxSendQueueBytes` waiting is dropped with
   * SEND_QUEUE_FULL rather than left to grow the server's memory.
   *
   * A payload no client could take throws at once and is sent to none:
   * FRAME_TOO_LARGE when it breaks this server's frame limits (size, nesting
   * depth, element count; `data` is `{limit, value}`), INVALID_ARGUMENT when
   * it cannot be encoded or decoded (a Map keyed by an object, say). A client
   * that announced lower limits is skipped (and reported to `onEventSkipped`);
   * its connection is untouched.
   */
  emit<E extends EventName<C>>(event: E, payload: EventInput<C, E>): number;
  readonly stats: ServerStats;
  /** Resolves when the server has stopped (closed by its user, or its only link ended). */
  readonly closed: Promise<void>;
  /**
   * Stops accepting and removes the endpoint's named objects. With
   * `graceMs`, calls and streams already running may finish within that
   * time while new ones are refused with SHUTTING_DOWN; whatever still runs
   * then is answered with SHUTTING_DOWN (CLOSED when there was no grace) and
   * its handler's signal aborts. Then every connection closes.
   */
  close(options?: CloseOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves a channel on the links an acceptor yields. Transports provide the
 * acceptor; `serve(channel, url, handlers)` in @procwire/transports wires the
 * two together.
 */
export function createServer<C extends Channel<any>>(
  channel: C,
  handlers: Handlers<C>,
  acceptor: LinkAcceptor,
  options: ServerOptions = {},
): Server<C> {
  return new ChannelServer(channel, handlers, acceptor, options);
}

class ChannelServer<C extends Channel<any>> implements Server<C>, ServerConnectionHost {
  readonly channelName: string;
  readonly channelVersion: number;
  readonly routes: Map<string, Route>;
  readonly handlers: Record<string, (input: unknown, ctx: CallContext) => unknown>;
  readonly validateInput: boolean;
  readonly limits: ServerLimits;
  readonly closed: Promise<void>;
  private readonly frameLimits: FrameLimits;
  private readonly admission: Admission;
  private slowConsumers = 0;
  private lingeringRefusals = 0;
  private readonly connections = new Set<ServerConnection>();
  private readonly eventNames = new Map<string, string>();
  private protocolErrors = 0;
  private closing: Promise<void> | undefined;
  private resolveClosed!: () => void;
  private acceptorEnded = false;

  constructor(
    readonly channel: C,
    handlers: Handlers<C>,
    private readonly acceptor: LinkAcceptor,
    private readonly options: ServerOptions,
  ) {
    if (!isChannel(channel)) {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'serve: the first argument must come from defineChannel()');
    }
    this.channelName = channel.name;
    this.channelVersion = channel.version;
    this.routes = buildRoutes(channel);
    this.handlers = checkHandlers(channel, this.routes, handlers);
    this.validateInput = options.validate ?? true;
    if (options.exposeHandlerErrors !== undefined && typeof options.exposeHandlerErrors !== 'boolean') {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'serve: exposeHandlerErrors must be a boolean');
    }
    if (options.onHandlerError !== undefined && typeof options.onHandlerError !== 'function') {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'serve: onHandlerError must be a function');
    }
    this.limits = resolveServerLimits(options);
    this.frameLimits = resolveFrameLimits(options.limits);
    this.admission = new Admission(this.limits, compileAllow(options.allow));
    for (const route of this.routes.values()) {
      if (route.kind === 'event') this.eventNames.set(route.name, route.wireName);
    }
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    acceptor.start(
      (link) => this.accept(link),
      () => {
        this.acceptorEnded = true;
        if (this.connections.size === 0) void this.close();
      },
    );
  }

  get url(): string {
    return this.acceptor.url;
  }

  get stats(): ServerStats {
    return {
      connections: this.connections.size,
      protocolErrors: this.protocolErrors,
      refused: this.admission.refused,
      slowConsumers: this.slowConsumers,
    };
  }

  private accept(link: Link): void {
    if (this.closing) {
      link.destroy();
      return;
    }
    const refusal = this.admission.enter(link.peer);
    if (refusal) return this.refuse(link, refusal);
    const connection = new ServerConnection(link, this as ServerConnectionHost);
    // A link may fail while it starts (its peer broke the protocol at once):
    // then the connection is over before it could be counted.
    if (connection.isClosed) this.admission.leave(link.peer);
    else this.connections.add(connection);
  }

  /**
   * Tells the peer why (a procwire client reports it from connect) and hangs
   * up once the peer has read it and left, or after REFUSAL_LINGER_MS. The
   * link starts with a receiver that drops every frame: none is decoded.
   * Closing at once could lose the notice (one-way transports tear down the
   * whole pair with one side), so refusals linger, but never more than
   * MAX_LINGERING_REFUSALS at a time.
   */
  private refuse(link: Link, reason: ProcwireError): void {
    this.options.onRefused?.(reason, link.peer);
    let timer: NodeJS.Timeout | undefined;
    link.start({
      frames: () => {},
      drain: () => {},
      close: () => {
        clearTimeout(timer);
        this.lingeringRefusals--;
      },
    });
    this.lingeringRefusals++;
    link.send(encode([MessageType.NOTIFICATION, REFUSED_NOTIFICATION, [{ code: reason.code, message: reason.message }]]));
    if (this.lingeringRefusals > MAX_LINGERING_REFUSALS) {
      void link.close();
      return;
    }
    timer = setTimeout(() => link.destroy(), REFUSAL_LINGER_MS);
    timer.unref();
  }

  sendQueueOverflow(connection: ServerConnection): void {
    this.slowConsumers++;
    const error = new ProcwireError(
      ErrorCode.SEND_QUEUE_FULL,
      `the client read too slowly: more than maxSendQueueBytes (${this.limits.maxSendQueueBytes}) waited to be sent to it`,
      { data: { limit: 'maxSendQueueBytes', value: this.limits.maxSendQueueBytes } },
    );
    this.options.onRefused?.(error, connection.peer);
    connection.destroy(error);
  }

  emit<E extends EventName<C>>(event: E, payload: EventInput<C, E>): number {
    const name = this.eventNames.get(event);
    if (name === undefined) {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `channel ${this.channelName} declares no event "${event}"`);
    }
    if (this.connections.size === 0) return 0;
    // Encoded once for every client, and copied: emit() returns at once and
    // reports no backpressure, so the caller may reuse its buffers right
    // away (calls and streams send large payloads without this copy).
    let frame: Buffer;
    try {
      frame = encode([MessageType.NOTIFICATION, name, [payload]]);
    } catch (error) {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `payload of event ${name} is not encodable: ${(error as Error).message}`);
    }
    const what = `event ${name}`;
    const shape = frame.length > this.frameLimits.maxFrameBytes ? undefined : shapeOf(frame);
    const refusal = shape
      ? refusalFor(shape, this.frameLimits)
      : { limit: 'maxFrameBytes' as const, value: this.frameLimits.maxFrameBytes };
    if (refusal) throw refusalError(refusal, what, frame.length, ErrorCode.INVALID_ARGUMENT);
    let sent = 0;
    for (const connection of this.connections) {
      const outcome = connection.sendFrame(frame, shape!, what);
      if (outcome === true) sent++;
      else if (outcome instanceof ProcwireError) this.options.onEventSkipped?.(outcome, connection.peer);
    }
    return sent;
  }

  handlerError(error: unknown, ctx: CallContext): ProcwireError {
    // A handler still running after its caller left: nobody waits for this error.
    if (!ctx.isAborted) this.options.onHandlerError?.(error, { method: ctx.method, peer: ctx.peer });
    if (error instanceof ProcwireError || this.options.exposeHandlerErrors !== false) return toProcwireError(error);
    return new ProcwireError(ErrorCode.HANDLER_ERROR, GENERIC_HANDLER_ERROR_MESSAGE, { cause: error });
  }

  inputSchemaThrew(route: Route, cause: unknown): ProcwireError {
    // What a schema's own code threw is kept from the caller as a handler's error is.
    return schemaThrew(`the input of ${route.wireName}`, cause, ErrorCode.INVALID_INPUT, this.options.exposeHandlerErrors !== false);
  }

  reportProtocolError(error: ProcwireError | string, peer: PeerInfo): void {
    this.protocolErrors++;
    const listener = this.options.onProtocolError;
    if (listener) listener(typeof error === 'string' ? new ProcwireError(ErrorCode.PROTOCOL, error) : error, peer);
  }

  connectionClosed(connection: ServerConnection): void {
    if (this.connections.delete(connection)) this.admission.leave(connection.peer);
    if (this.acceptorEnded && this.connections.size === 0) void this.close();
  }

  close(options: CloseOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? 0;
    if (!Number.isFinite(graceMs) || graceMs < 0) {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'close: graceMs must be a non-negative number of milliseconds');
    }
    this.closing ??= (async () => {
      await this.acceptor.close().catch(() => {});
      let reason = new ProcwireError(ErrorCode.CLOSED, 'the server closed');
      if (graceMs > 0) {
        reason = new ProcwireError(ErrorCode.SHUTTING_DOWN, `the server is shutting down (grace period ${graceMs} ms)`);
        const drained = Promise.all([...this.connections].map((c) => c.drain(reason)));
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        });
        await Promise.race([drained, graceOver]);
        clearTimeout(timer);
      }
      await Promise.all([...this.connections].map((c) => c.close(reason)));
      this.resolveClosed();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function checkHandlers(
  channel: Channel<any>,
  routes: Map<string, Route>,
  handlers: unknown,
): Record<string, (input: unknown, ctx: CallContext) => unknown> {
  if (typeof handlers !== 'object' || handlers === null) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'serve: handlers must be an object');
  }
  const table = handlers as Record<string, unknown>;
  const expected = new Set<string>();
  for (const route of routes.values()) {
    if (route.kind === 'event') continue;
    expected.add(route.name);
    if (typeof table[route.name] !== 'function') {
      throw new ProcwireError(
        ErrorCode.INVALID_ARGUMENT,
        `serve: missing handler for ${route.kind === 'rpc' ? 'rpc method' : 'stream'} "${route.name}" of channel ${channel.name}`,
      );
    }
  }
  for (const key of Object.keys(table)) {
    if (!expected.has(key)) {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `serve: "${key}" is not an rpc method or stream of channel ${channel.name}`);
    }
  }
  // A null-prototype copy: lookups by name can never reach Object.prototype.
  return Object.assign(Object.create(null), table) as Record<string, (input: unknown, ctx: CallContext) => unknown>;
}
