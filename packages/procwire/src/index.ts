/**
 * procwire: typed RPC, events and streams between processes. This entry is
 * what an application uses: contracts, serve/connect/spawn over endpoint
 * URLs, the errors, named semaphores and the named objects a server leaves.
 *
 * Transport authors and tests that speak the wire themselves import
 * `procwire/link` (links, the codec, the frame delimiter, the registry).
 */
export { defineChannel } from '@procwire/core';
export type {
  CallOptions,
  Channel,
  ChannelDefinition,
  Client,
  ClientStream,
  CloseOptions,
  EventInput,
  EventListener,
  EventName,
  EventPayload,
  FrameLimits,
  HandlerContext,
  HandlerErrorInfo,
  Handlers,
  InputOf,
  MethodSchemas,
  OutputOf,
  PeerInfo,
  RpcHandler,
  RpcProxy,
  Schema,
  Server,
  ServerStats,
  StreamHandler,
  StreamOptions,
  StreamProxy,
  AllowRule,
} from '@procwire/core';
export {
  ErrorCode,
  ProcwireError,
  type CustomErrorCodes,
  type ErrorCodeString,
  type KnownErrorCode,
  type ProcwireErrorOptions,
} from '@procwire/core';
export { serve, connect, spawn, availableSchemes, listNamedObjects, removeStaleObjects } from '@procwire/transports';
export type {
  AccessMode,
  ConnectOptions,
  NamedObject,
  ReconnectOptions,
  ServeOptions,
  SharedSecret,
  SpawnOptions,
  TlsClientOptions,
  TlsServerOptions,
  Worker,
} from '@procwire/transports';
export { openSemaphore, removeSemaphore, type AcquireOptions, type Permit, type Semaphore, type SemaphoreOptions } from '@procwire/sync';
