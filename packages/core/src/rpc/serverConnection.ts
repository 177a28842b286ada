import { describeIssues, issuesToData, validate, type Validation } from '../contract/validate.js';
import type { PeerInfo } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { describePeerValue } from '../wire/describe.js';
import type { Link } from '../link/link.js';
import { encode } from '../wire/codec.js';
import { encodeFor, sendEncoded, type EncodedFrame } from '../wire/gather.js';
import { decodeFrames } from '../wire/decodeFrames.js';
import { MAX_MSGID, MessageType, PING_METHOD, PROTOCOL_VERSION } from '../wire/constants.js';
import { errorForWire } from '../wire/errors.js';
import { announcedLimits, limitsOf, strictestLimits, type FrameLimits } from '../wire/limits.js';
import { checkOutgoing, refusalError, refusalFor, type FrameShape } from '../wire/outgoing.js';
import { peekMessage } from '../wire/peek.js';
import { ServerStream } from '../streams/serverStream.js';
import { CallContext } from './callContext.js';
import type { Route } from './routes.js';
import { tooManyPending, type ServerLimits } from './serverLimits.js';

/** What a connection needs from the server that owns it. */
export interface ServerConnectionHost {
  readonly channelName: string;
  readonly channelVersion: number;
  readonly routes: ReadonlyMap<string, Route>;
  readonly handlers: Readonly<Record<string, (input: unknown, ctx: CallContext) => unknown>>;
  readonly validateInput: boolean;
  readonly limits: ServerLimits;
  /** What the caller is told of an error its handler threw (the server's exposeHandlerErrors option). */
  handlerError(error: unknown, ctx: CallContext): ProcwireError;
  /** What the caller is told when a method's input schema threw or rejected: INVALID_INPUT. */
  inputSchemaThrew(route: Route, cause: unknown): ProcwireError;
  /** The connection's backlog passed maxSendQueueBytes: the server drops it. */
  sendQueueOverflow(connection: ServerConnection): void;
  /**
   * A peer broke the protocol in a way that did not end the connection. A
   * string is made into a PROTOCOL error only if someone listens: a peer
   * flooding junk must not cost a stack trace per message.
   */
  reportProtocolError(error: ProcwireError | string, peer: PeerInfo): void;
  connectionClosed(connection: ServerConnection, error?: Error): void;
}

function isMsgid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_MSGID;
}

/**
 * One client, as the server sees it: decodes its frames, validates inputs,
 * runs handlers and streams, and answers in the peer's dialect (rich errors
 * for procwire clients that said hello, "CODE: message" strings for plain
 * msgpack-rpc clients).
 */
export class ServerConnection {
  /** True once the peer completed the procwire handshake. */
  private procwirePeer = false;
  /**
   * What this client accepts: this link's own limits, and after its hello
   * the stricter of those and the ones it announced (defaults for a hello
   * without them). Nothing is sent past them: a reply, item or event that
   * would be fails alone instead of the whole connection.
   */
  private sendLimits: FrameLimits;
  private readonly calls = new Map<number, CallContext>();
  private readonly streams = new Map<number, ServerStream>();
  /**
   * Calls and streams whose caller is gone (CANCEL, a timeout on its side)
   * but whose handler, validation or producer still runs. Their ids are free
   * for new calls at once; their slots are not, until they settle: a caller
   * that gives up and calls again must not run more than maxPendingCalls
   * handlers at once.
   */
  private readonly lingering = new Set<CallContext | ServerStream>();
  private closed = false;
  /** Set once the server drains: new calls and streams are refused. */
  private draining: ProcwireError | undefined;
  private idleWaiter: (() => void) | undefined;

  constructor(
    readonly link: Link,
    private readonly host: ServerConnectionHost,
  ) {
    this.sendLimits = limitsOf(link.capabilities);
    link.start({
      frames: (source, start, end) => decodeFrames(source, start, end, this.onMessage, this.onUndecodable),
      drain: () => {
        for (const stream of this.streams.values()) stream.onDrain();
      },
      malformed: (error, frame) => this.onDropped(`malformed frame: ${error.message}`, error, frame),
      close: (error) => this.onClose(error),
    });
  }

  get peer(): PeerInfo {
    return this.link.peer;
  }

  /**
   * Sends an already-encoded event frame of the given shape (events are
   * encoded once for all clients). Returns false when the connection is gone
   * or was dropped because its backlog passed the send-queue limit, or the
   * error that keeps the frame from this client (its limits).
   */
  sendFrame(frame: EncodedFrame, shape: FrameShape, what: string): boolean | ProcwireError {
    if (this.closed) return false;
    const refusal = refusalFor(shape, this.sendLimits);
    if (refusal) return refusalError(refusal, what, frame.length, ErrorCode.INVALID_ARGUMENT);
    sendEncoded(this.link, frame);
    return this.withinSendQueue();
  }

  /** Checks the backlog after a send; a connection over the limit is dropped. */
  private withinSendQueue(): boolean {
    if (this.link.bufferedBytes <= this.host.limits.maxSendQueueBytes) return true;
    this.host.sendQueueOverflow(this);
    return false;
  }

  /** Ends the connection at once: running handlers are aborted, nothing more is sent. */
  destroy(error: ProcwireError): void {
    this.link.destroy(error);
  }

  /** In-flight calls and open streams, and cancelled ones whose handler or producer has not settled yet. */
  get busy(): number {
    return this.calls.size + this.streams.size + this.lingering.size;
  }

  /** Refuses new calls and streams from now on; resolves when the running ones are done. */
  drain(reason: ProcwireError): Promise<void> {
    this.draining = reason;
    if (this.busy === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiter = resolve;
    });
  }

  /**
   * Ends the connection: whatever still runs is answered with `reason` (the
   * caller gets a typed error, not a vanished peer) and its handler's signal
   * aborts; then the link is flushed and closed.
   */
  close(reason: ProcwireError = new ProcwireError(ErrorCode.CLOSED, 'the server is closing')): Promise<void> {
    if (!this.closed) {
      for (const [id, ctx] of this.calls) {
        this.respondError(id, reason);
        ctx.abort(reason);
      }
      this.calls.clear();
      for (const stream of this.streams.values()) stream.fail(reason, true);
      this.streams.clear();
    }
    return this.link.close();
  }

  private checkIdle(): void {
    if (this.idleWaiter && this.busy === 0) {
      const waiter = this.idleWaiter;
      this.idleWaiter = undefined;
      waiter();
    }
  }

  private readonly onUndecodable = (error: Error, frame: Buffer, start: number, end: number): void => {
    this.onDropped(`undecodable frame: ${error.message}`, error, frame.subarray(start, end));
  };

  /**
   * A frame was dropped (it could not be decoded, or broke a limit on a link
   * that drops only the frame). It is reported; and a request or stream open
   * whose msgid can still be read is answered with the error, so its caller
   * does not wait in vain.
   */
  private onDropped(report: string, error: Error, frame: Buffer | undefined): void {
    this.protocolError(report);
    const message = frame && !this.closed ? peekMessage(frame) : undefined;
    if (message?.type !== MessageType.REQUEST && message?.type !== MessageType.STREAM_OPEN) return;
    const answer =
      error instanceof ProcwireError && error.code === ErrorCode.FRAME_TOO_LARGE
        ? error
        : new ProcwireError(
            ErrorCode.PROTOCOL,
            `the ${message.type === MessageType.REQUEST ? 'request' : 'stream open'} could not be decoded: ${error.message}`,
          );
    if (message.type === MessageType.REQUEST) this.respondError(message.id, answer);
    else this.endStreamEarly(message.id, answer);
  }

  private readonly onMessage = (message: unknown): boolean | void => {
    if (this.closed) return false;
    if (!Array.isArray(message)) return this.protocolError('a message must be an array');
    switch (message[0]) {
      case MessageType.REQUEST:
        return this.taking(message, () => this.onRequest(message));
      case MessageType.NOTIFICATION:
        // Clients send no events in procwire's model; msgpack-rpc clients may
        // send notifications of their own (pynvim's nvim_set_client_info).
        return;
      case MessageType.HELLO:
        return this.onHello(message);
      case MessageType.CANCEL:
        return this.onCancel(message);
      case MessageType.STREAM_OPEN:
        return this.taking(message, () => this.onStreamOpen(message));
      case MessageType.STREAM_CREDIT:
        return this.onCredit(message);
      default:
        return this.protocolError(`unexpected message type ${describePeerValue(message[0])}`);
    }
  };

  /**
   * Takes a request or stream open. Whatever throws while it is taken (a
   * callback of the server's own options, say) answers its id with a typed
   * error: it must not escape into the link, which would drop the connection.
   */
  private taking(message: unknown[], take: () => void): void {
    try {
      take();
    } catch (cause) {
      const id = message[1];
      if (!isMsgid(id) || this.closed) return;
      const error =
        cause instanceof ProcwireError
          ? cause
          : new ProcwireError(ErrorCode.HANDLER_ERROR, 'the server failed while taking the call', { cause });
      if (message[0] === MessageType.REQUEST) {
        if (this.calls.delete(id)) this.checkIdle();
        return this.respondError(id, error);
      }
      const stream = this.streams.get(id);
      if (stream) stream.fail(error);
      else this.endStreamEarly(id, error);
    }
  }

  private onHello(message: unknown[]): void {
    const hello = message[1] as { procwire?: unknown } | undefined;
    if (message.length !== 2 || typeof hello !== 'object' || hello === null || typeof hello.procwire !== 'number') {
      return this.protocolError('malformed hello');
    }
    this.procwirePeer = true;
    const own = limitsOf(this.link.capabilities);
    this.sendLimits = strictestLimits(own, announcedLimits(hello as Record<string, unknown>));
    this.link.send(
      encode([
        MessageType.HELLO,
        {
          procwire: PROTOCOL_VERSION,
          channel: this.host.channelName,
          version: this.host.channelVersion,
          maxFrameBytes: own.maxFrameBytes,
          maxDepth: own.maxDepth,
          maxElements: own.maxElements,
          role: 'server',
        },
      ]),
    );
  }

  private onRequest(message: unknown[]): void {
    const id = message[1];
    const method = message[2];
    const params = message[3];
    if (message.length !== 4 || !isMsgid(id)) return this.protocolError('malformed request');
    if (typeof method !== 'string') {
      return this.respondError(id, new ProcwireError(ErrorCode.METHOD_NOT_FOUND, 'method name must be a string'));
    }
    const route = this.host.routes.get(method);
    if (route === undefined || route.kind !== 'rpc') {
      if (method === PING_METHOD) return this.sendEncoded(MessageType.RESPONSE, id, null, null);
      const hint = route?.kind === 'stream' ? ' (it is a stream; plain requests cannot call it)' : '';
      return this.respondError(id, new ProcwireError(ErrorCode.METHOD_NOT_FOUND, `no method "${method}"${hint}`));
    }
    if (this.draining) return this.respondError(id, this.draining);
    if (this.calls.has(id) || this.streams.has(id)) {
      return this.respondError(id, new ProcwireError(ErrorCode.PROTOCOL, `message id ${id} is already in use`));
    }
    if (this.busy >= this.host.limits.maxPendingCalls)
      return this.respondError(id, tooManyPending('this connection', this.host.limits.maxPendingCalls));
    const input = this.inputOf(params);
    if (input instanceof ProcwireError) return this.respondError(id, input);
    const ctx = new CallContext(this.link.peer, method);
    this.calls.set(id, ctx);
    if (!this.host.validateInput) return this.runHandler(id, route, input, ctx);
    let checked: Validation | Promise<Validation>;
    try {
      checked = validate(route.input, input);
    } catch (cause) {
      return this.finishCall(id, ctx, undefined, this.host.inputSchemaThrew(route, cause));
    }
    if (checked instanceof Promise) {
      checked.then(
        (v) => this.afterValidation(id, route, v, ctx),
        (cause: unknown) => this.finishCall(id, ctx, undefined, this.host.inputSchemaThrew(route, cause)),
      );
    } else {
      this.afterValidation(id, route, checked, ctx);
    }
  }

  private afterValidation(id: number, route: Route, checked: Validation, ctx: CallContext): void {
    if (ctx.isAborted) return this.release(ctx); // CANCEL (or close) already freed the id, which may name a newer call by now
    if (!checked.ok) {
      return this.finishCall(id, ctx, undefined, invalidInput(route, checked.issues));
    }
    this.runHandler(id, route, checked.value, ctx);
  }

  private runHandler(id: number, route: Route, input: unknown, ctx: CallContext): void {
    let result: unknown;
    try {
      result = this.host.handlers[route.name]!(input, ctx);
    } catch (error) {
      return this.finishCall(id, ctx, undefined, this.host.handlerError(error, ctx));
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.finishCall(id, ctx, value, undefined),
        (error: unknown) => this.finishCall(id, ctx, undefined, this.host.handlerError(error, ctx)),
      );
    } else {
      this.finishCall(id, ctx, result, undefined);
    }
  }

  private finishCall(id: number, ctx: CallContext, value: unknown, error: ProcwireError | undefined): void {
    if (this.calls.get(id) !== ctx) return this.release(ctx);
    this.calls.delete(id);
    this.checkIdle();
    // A cancelled caller has already settled its side; an answer would be dropped.
    if (ctx.isAborted || this.closed) return;
    if (error) this.respondError(id, error);
    else this.sendEncoded(MessageType.RESPONSE, id, null, value);
  }

  /**
   * Encodes a message for this client and checks it against what the client
   * accepts; `what` names it in the error when it cannot go.
   */
  private encodeChecked(message: unknown[], what: string): EncodedFrame | ProcwireError {
    let frame: EncodedFrame;
    try {
      frame = encodeFor(this.link, message);
    } catch (e) {
      return new ProcwireError(ErrorCode.HANDLER_ERROR, `${what} is not encodable: ${(e as Error).message}`);
    }
    const refusal = checkOutgoing(frame, this.sendLimits);
    return refusal ? refusalError(refusal, what, frame.length, ErrorCode.HANDLER_ERROR) : frame;
  }

  /** A response, or a STREAM_END, carrying `error` (or its replacement, should it not fit). */
  private errorFrame(message: unknown[], errorAt: number, error: ProcwireError): EncodedFrame {
    message[errorAt] = errorForWire(error, this.procwirePeer);
    const frame = this.encodeChecked(message, 'error');
    if (!(frame instanceof ProcwireError)) return frame;
    // The error's own message or data does not fit: say so instead, in a frame that does.
    message[errorAt] = errorForWire(frame, this.procwirePeer);
    return encode(message);
  }

  private sendEncoded(type: number, id: number, error: unknown, value: unknown): void {
    let frame = this.encodeChecked([type, id, error, value], 'result');
    if (frame instanceof ProcwireError) frame = this.errorFrame([type, id, null, null], 2, frame);
    sendEncoded(this.link, frame);
    this.withinSendQueue();
  }

  private respondError(id: number, error: ProcwireError): void {
    sendEncoded(this.link, this.errorFrame([MessageType.RESPONSE, id, null, null], 2, error));
    this.withinSendQueue();
  }

  handlerError(error: unknown, ctx: CallContext): ProcwireError {
    return this.host.handlerError(error, ctx);
  }

  /**
   * Sends a stream item or end; used by ServerStream. An item this client
   * cannot take throws its error (the stream then ends with it).
   */
  sendStreamFrame(type: number, id: number, payload: unknown): boolean {
    if (this.closed) return false;
    if (type === MessageType.STREAM_END && payload instanceof ProcwireError) {
      sendEncoded(this.link, this.errorFrame([type, id, null], 2, payload));
      return true;
    }
    const frame = this.encodeChecked([type, id, payload], type === MessageType.STREAM_ITEM ? 'stream item' : 'stream end');
    if (frame instanceof ProcwireError) throw frame;
    // An item's payloads are lent: the stream pulls its next item only after the link drains.
    return sendEncoded(this.link, frame, type === MessageType.STREAM_ITEM);
  }

  copyLent(): void {
    this.link.copyLent?.();
  }

  /** The stream's id is free; its slot stays held while its producer still runs. */
  streamFinished(id: number, stream: ServerStream): void {
    if (this.streams.get(id) === stream) {
      this.streams.delete(id);
      if (!stream.settled && !this.closed) this.lingering.add(stream);
    }
    this.checkIdle();
  }

  /** The stream's producer has returned or thrown (or will never run). */
  producerSettled(stream: ServerStream): void {
    this.release(stream);
  }

  /** A cancelled call or stream settled: its slot is free. */
  private release(owner: CallContext | ServerStream): void {
    if (this.lingering.delete(owner)) this.checkIdle();
  }

  private onStreamOpen(message: unknown[]): void {
    const [, id, method, params, credit] = message;
    if (message.length !== 5 || !isMsgid(id) || !isCredit(credit)) return this.protocolError('malformed stream open');
    const route = typeof method === 'string' ? this.host.routes.get(method) : undefined;
    if (route === undefined || route.kind !== 'stream') {
      return this.endStreamEarly(id, new ProcwireError(ErrorCode.METHOD_NOT_FOUND, `no stream "${describePeerValue(method)}"`));
    }
    if (this.draining) return this.endStreamEarly(id, this.draining);
    if (this.calls.has(id) || this.streams.has(id)) {
      return this.endStreamEarly(id, new ProcwireError(ErrorCode.PROTOCOL, `message id ${id} is already in use`));
    }
    if (this.busy >= this.host.limits.maxPendingCalls)
      return this.endStreamEarly(id, tooManyPending('this connection', this.host.limits.maxPendingCalls));
    const input = this.inputOf(params);
    if (input instanceof ProcwireError) return this.endStreamEarly(id, input);
    const ctx = new CallContext(this.link.peer, route.wireName);
    const stream = new ServerStream(this, id, ctx, credit);
    this.streams.set(id, stream);
    const start = (checked: Validation) => {
      if (!checked.ok) return stream.fail(invalidInput(route, checked.issues));
      stream.start(() => this.host.handlers[route.name]!(checked.value, ctx));
    };
    if (!this.host.validateInput) return start({ ok: true, value: input });
    let checked: Validation | Promise<Validation>;
    try {
      checked = validate(route.input, input);
    } catch (cause) {
      return stream.fail(this.host.inputSchemaThrew(route, cause));
    }
    if (checked instanceof Promise) checked.then(start, (cause: unknown) => stream.fail(this.host.inputSchemaThrew(route, cause)));
    else start(checked);
  }

  private endStreamEarly(id: number, error: ProcwireError): void {
    sendEncoded(this.link, this.errorFrame([MessageType.STREAM_END, id, null], 2, error));
  }

  private onCredit(message: unknown[]): void {
    const [, id, credit] = message;
    if (message.length !== 3 || !isMsgid(id) || !isCredit(credit)) return this.protocolError('malformed stream credit');
    this.streams.get(id)?.addCredit(credit);
  }

  private onCancel(message: unknown[]): void {
    const id = message[1];
    if (message.length !== 2 || !isMsgid(id)) return this.protocolError('malformed cancel');
    const reason = new ProcwireError(ErrorCode.CANCELLED, 'the caller cancelled the call or stopped waiting (timeout)');
    const call = this.calls.get(id);
    if (call) {
      this.calls.delete(id);
      this.lingering.add(call);
      call.abort(reason);
    }
    this.streams.get(id)?.cancel(reason);
    this.checkIdle();
  }

  /** msgpack-rpc passes params as an array; procwire methods take one argument. */
  private inputOf(params: unknown): unknown {
    if (!Array.isArray(params)) return new ProcwireError(ErrorCode.INVALID_INPUT, 'params must be an array');
    if (params.length > 1) {
      return new ProcwireError(ErrorCode.INVALID_INPUT, `expected one parameter, got ${params.length}`);
    }
    return params[0];
  }

  private protocolError(message: string): void {
    this.host.reportProtocolError(message, this.link.peer);
  }

  private abortAll(reason: ProcwireError): void {
    for (const ctx of this.calls.values()) ctx.abort(reason);
    this.calls.clear();
    for (const stream of this.streams.values()) stream.cancel(reason);
    this.streams.clear();
    // The connection is gone: nothing is left to hold a slot against.
    this.lingering.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onClose(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    // A link that hangs up because the peer broke the framing (bad bytes on a
    // stream, a corrupt shared-memory ring) is a protocol error like any other.
    if (error instanceof ProcwireError && (error.code === ErrorCode.PROTOCOL || error.code === ErrorCode.FRAME_TOO_LARGE)) {
      this.host.reportProtocolError(error, this.link.peer);
    }
    this.abortAll(new ProcwireError(ErrorCode.PEER_GONE, 'the client went away', { cause: error }));
    this.checkIdle();
    this.host.connectionClosed(this, error);
  }
}

function invalidInput(route: Route, issues: Parameters<typeof describeIssues>[0]): ProcwireError {
  return new ProcwireError(ErrorCode.INVALID_INPUT, `invalid input for ${route.wireName}: ${describeIssues(issues)}`, {
    data: { issues: issuesToData(issues) },
  });
}

function isCredit(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_MSGID;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
