import type { StandardSchemaV1 } from '@standard-schema/spec';

/** Any Standard Schema (zod, valibot, arktype, ...). */
export type Schema = StandardSchemaV1;

export interface MethodSchemas {
  readonly input: Schema;
  readonly output: Schema;
}

/** What `defineChannel` accepts. */
export interface ChannelDefinition {
  /** Channel name; prefixes every wire method name (`calc.add`). */
  readonly name: string;
  /** Positive integer; a client refuses a server that serves another one. */
  readonly version: number;
  readonly rpc?: { readonly [method: string]: MethodSchemas };
  readonly events?: { readonly [event: string]: Schema };
  readonly streams?: { readonly [method: string]: MethodSchemas };
}

/** What the caller passes: the schema's input type. */
export type InputOf<S> = S extends Schema ? StandardSchemaV1.InferInput<S> : never;
/** What the receiver gets after validation: the schema's output type. */
export type OutputOf<S> = S extends Schema ? StandardSchemaV1.InferOutput<S> : never;

type RpcOf<D extends ChannelDefinition> = D['rpc'] extends object ? D['rpc'] : {};
type StreamsOf<D extends ChannelDefinition> = D['streams'] extends object ? D['streams'] : {};
type EventsOf<D extends ChannelDefinition> = D['events'] extends object ? D['events'] : {};

/** A validated contract, produced by `defineChannel`. */
export interface Channel<D extends ChannelDefinition = ChannelDefinition> {
  readonly name: D['name'];
  readonly version: D['version'];
  readonly rpc: RpcOf<D>;
  readonly events: EventsOf<D>;
  readonly streams: StreamsOf<D>;
  /** Marker so channels can be told apart from plain definitions at run time. */
  readonly kind: 'procwire.channel';
}

/** The peer as the transport knows it; fields are present when the mechanism can tell. */
export interface PeerInfo {
  /** Transport scheme, e.g. `unix`, `tcp`, `socketpair`. */
  readonly transport: string;
  /** Human-readable remote address, when there is one. */
  readonly address?: string;
  readonly pid?: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** The second argument of every handler. */
export interface HandlerContext {
  /** Aborted when the caller cancels, times out or disconnects, or the server closes. */
  readonly signal: AbortSignal;
  /** Who is calling. */
  readonly peer: PeerInfo;
  /** The wire method name, e.g. `calc.add`. */
  readonly method: string;
}

type MaybePromise<T> = T | Promise<T>;
type In<M> = M extends { readonly input: infer S } ? S : never;
type Out<M> = M extends { readonly output: infer S } ? S : never;

export type RpcHandler<M> = (input: OutputOf<In<M>>, ctx: HandlerContext) => MaybePromise<InputOf<Out<M>>>;

export type StreamHandler<M> = (input: OutputOf<In<M>>, ctx: HandlerContext) => AsyncIterable<InputOf<Out<M>>> | Iterable<InputOf<Out<M>>>;

/** One handler per rpc method and per stream method (names are unique across both). */
export type Handlers<C extends Channel<any>> =
  C extends Channel<infer D>
    ? { [K in keyof RpcOf<D>]: RpcHandler<RpcOf<D>[K]> } & {
        [K in keyof StreamsOf<D>]: StreamHandler<StreamsOf<D>[K]>;
      }
    : never;

export interface CallOptions {
  /** Aborting rejects the call with CANCELLED and aborts the handler's signal. */
  readonly signal?: AbortSignal;
  /** Milliseconds before the call rejects with TIMEOUT (default: the client's callTimeoutMs). */
  readonly timeoutMs?: number;
}

export interface StreamOptions {
  /** Aborting ends the stream with CANCELLED and stops the producer. */
  readonly signal?: AbortSignal;
  /** Items the producer may send ahead of the reader (default 64). */
  readonly window?: number;
  /**
   * Milliseconds from the first `next()` until the stream must have ended;
   * then it ends with TIMEOUT and the producer is stopped (its handler's
   * signal aborts). Default 0: none.
   */
  readonly timeoutMs?: number;
  /**
   * Milliseconds a `next()` may wait for the next item (the producer's
   * silence; a reader slow to ask does not count); then the stream ends with
   * TIMEOUT and the producer is stopped. Default 0: none.
   */
  readonly idleTimeoutMs?: number;
}

/** A running stream: an async iterable that can also be cancelled explicitly. */
export interface ClientStream<T> extends AsyncIterable<T> {
  cancel(): void;
}

/** A function of one input; the input may be left out when its schema accepts `undefined`. */
type Caller<I, Options, R> = undefined extends I ? (input?: I, options?: Options) => R : (input: I, options?: Options) => R;

export type RpcProxy<C extends Channel<any>> =
  C extends Channel<infer D>
    ? {
        readonly [K in keyof RpcOf<D>]: Caller<InputOf<In<RpcOf<D>[K]>>, CallOptions, Promise<OutputOf<Out<RpcOf<D>[K]>>>>;
      }
    : never;

export type StreamProxy<C extends Channel<any>> =
  C extends Channel<infer D>
    ? {
        readonly [K in keyof StreamsOf<D>]: Caller<
          InputOf<In<StreamsOf<D>[K]>>,
          StreamOptions,
          ClientStream<OutputOf<Out<StreamsOf<D>[K]>>>
        >;
      }
    : never;

export type EventName<C extends Channel<any>> = C extends Channel<infer D> ? keyof EventsOf<D> & string : never;

/** Payload a listener receives (validated, schema output type). */
export type EventPayload<C extends Channel<any>, E> =
  C extends Channel<infer D> ? (E extends keyof EventsOf<D> ? OutputOf<EventsOf<D>[E]> : never) : never;

/** Payload the server emits (schema input type). */
export type EventInput<C extends Channel<any>, E> =
  C extends Channel<infer D> ? (E extends keyof EventsOf<D> ? InputOf<EventsOf<D>[E]> : never) : never;
