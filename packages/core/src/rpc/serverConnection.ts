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
import { errorForWire, toProcwireError } from '../wire/errors.js';
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
  private readonly calls = new Map<number, CallContext>();
  private readonly streams = new Map<number, ServerStream>();
  private closed = false;
  /** Set once the server drains: new calls and streams are refused. */
  private draining: ProcwireError | undefined;
  private idleWaiter: (() => void) | undefined;

  constructor(
    readonly link: Link,
    private readonly host: ServerConnectionHost,
  ) {
    link.start({
      frames: (source, start, end) => decodeFrames(source, start, end, this.onMessage, this.onUndecodable),
      drain: () => {
        for (const stream of this.streams.values()) stream.onDrain();
      },
      malformed: (error) => this.protocolError(`malformed frame: ${error.message}`),
      close: (error) => this.onClose(error),
    });
  }

  get peer(): PeerInfo {
    return this.link.peer;
  }

  /**
   * Sends an already-encoded frame (events are encoded once for all clients).
   * False when the connection is gone, or was dropped because its backlog
   * passed the send-queue limit.
   */
  sendFrame(frame: EncodedFrame): boolean {
    if (this.closed) return false;
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

  /** In-flight calls and open streams. */
  get busy(): number {
    return this.calls.size + this.streams.size;
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

  private readonly onUndecodable = (error: Error): void => {
    this.protocolError(`undecodable frame: ${error.message}`);
  };

  private readonly onMessage = (message: unknown): boolean | void => {
    if (this.closed) return false;
    if (!Array.isArray(message)) return this.protocolError('a message must be an array');
    switch (message[0]) {
      case MessageType.REQUEST:
        return this.onRequest(message);
      case MessageType.NOTIFICATION:
        // Clients send no events in procwire's model; msgpack-rpc clients may
        // send notifications of their own (pynvim's nvim_set_client_info).
        return;
      case MessageType.HELLO:
        return this.onHello(message);
      case MessageType.CANCEL:
        return this.onCancel(message);
      case MessageType.STREAM_OPEN:
        return this.onStreamOpen(message);
      case MessageType.STREAM_CREDIT:
        return this.onCredit(message);
      default:
        return this.protocolError(`unexpected message type ${describePeerValue(message[0])}`);
    }
  };

  private onHello(message: unknown[]): void {
    const hello = message[1] as { procwire?: unknown } | undefined;
    if (message.length !== 2 || typeof hello !== 'object' || hello === null || typeof hello.procwire !== 'number') {
      return this.protocolError('malformed hello');
    }
    this.procwirePeer = true;
    this.link.send(
      encode([
        MessageType.HELLO,
        {
          procwire: PROTOCOL_VERSION,
          channel: this.host.channelName,
          version: this.host.channelVersion,
          maxFrameBytes: this.link.capabilities.maxFrameBytes,
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
    if (this.busy >= this.host.limits.maxPendingCalls) return this.respondError(id, tooManyPending('this connection', this.host.limits.maxPendingCalls));
    const input = this.inputOf(params);
    if (input instanceof ProcwireError) return this.respondError(id, input);
    const ctx = new CallContext(this.link.peer, method);
    this.calls.set(id, ctx);
    if (!this.host.validateInput) return this.runHandler(id, route, input, ctx);
    const checked = validate(route.input, input);
    if (checked instanceof Promise) {
      checked.then(
        (v) => this.afterValidation(id, route, v, ctx),
        (e) => this.finishCall(id, ctx, undefined, toProcwireError(e)),
      );
    } else {
      this.afterValidation(id, route, checked, ctx);
    }
  }

  private afterValidation(id: number, route: Route, checked: Validation, ctx: CallContext): void {
    if (ctx.isAborted) return; // CANCEL (or close) already freed the id, which may name a newer call by now
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
      return this.finishCall(id, ctx, undefined, toProcwireError(error));
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.finishCall(id, ctx, value, undefined),
        (error: unknown) => this.finishCall(id, ctx, undefined, toProcwireError(error)),
      );
    } else {
      this.finishCall(id, ctx, result, undefined);
    }
  }

  private finishCall(id: number, ctx: CallContext, value: unknown, error: ProcwireError | undefined): void {
    if (this.calls.get(id) !== ctx) return;
    this.calls.delete(id);
    this.checkIdle();
    // A cancelled caller has already settled its side; an answer would be dropped.
    if (ctx.isAborted || this.closed) return;
    if (error) this.respondError(id, error);
    else this.sendEncoded(MessageType.RESPONSE, id, null, value);
  }

  private sendEncoded(type: number, id: number, error: unknown, value: unknown): void {
    let frame: EncodedFrame;
    try {
      frame = encodeFor(this.link, [type, id, error, value]);
    } catch (e) {
      frame = encode([
        type,
        id,
        errorForWire(new ProcwireError(ErrorCode.HANDLER_ERROR, `result is not encodable: ${(e as Error).message}`), this.procwirePeer),
        null,
      ]);
    }
    if (frame.length > this.link.capabilities.maxFrameBytes) {
      const tooLarge = new ProcwireError(
        ErrorCode.FRAME_TOO_LARGE,
        `result of ${frame.length} bytes exceeds maxFrameBytes (${this.link.capabilities.maxFrameBytes})`,
        { data: { limit: 'maxFrameBytes', value: this.link.capabilities.maxFrameBytes } },
      );
      frame = encode([type, id, errorForWire(tooLarge, this.procwirePeer), null]);
    }
    sendEncoded(this.link, frame);
    this.withinSendQueue();
  }

  private respondError(id: number, error: ProcwireError): void {
    this.sendEncoded(MessageType.RESPONSE, id, errorForWire(error, this.procwirePeer), null);
  }

  /** Sends a stream item or end; used by ServerStream. */
  sendStreamFrame(type: number, id: number, payload: unknown): boolean {
    if (this.closed) return false;
    if (type === MessageType.STREAM_END && payload instanceof ProcwireError) {
      this.link.send(encode([type, id, errorForWire(payload, this.procwirePeer)]));
      return true;
    }
    let frame: EncodedFrame;
    try {
      frame = encodeFor(this.link, [type, id, payload]);
    } catch (e) {
      throw new ProcwireError(ErrorCode.HANDLER_ERROR, `stream item is not encodable: ${(e as Error).message}`);
    }
    if (frame.length > this.link.capabilities.maxFrameBytes) {
      throw new ProcwireError(
        ErrorCode.FRAME_TOO_LARGE,
        `stream item of ${frame.length} bytes exceeds maxFrameBytes (${this.link.capabilities.maxFrameBytes})`,
      );
    }
    // Lent: the stream pulls its next item only after the link drains.
    return sendEncoded(this.link, frame, true);
  }

  copyLent(): void {
    this.link.copyLent?.();
  }

  streamFinished(id: number, stream: ServerStream): void {
    if (this.streams.get(id) === stream) this.streams.delete(id);
    this.checkIdle();
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
    if (this.busy >= this.host.limits.maxPendingCalls) return this.endStreamEarly(id, tooManyPending('this connection', this.host.limits.maxPendingCalls));
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
    const checked = validate(route.input, input);
    if (checked instanceof Promise) checked.then(start, (e) => stream.fail(toProcwireError(e)));
    else start(checked);
  }

  private endStreamEarly(id: number, error: ProcwireError): void {
    this.link.send(encode([MessageType.STREAM_END, id, errorForWire(error, this.procwirePeer)]));
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
