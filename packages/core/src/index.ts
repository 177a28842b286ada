export { defineChannel, isChannel } from './contract/defineChannel.js';
export type {
  CallOptions,
  Channel,
  ChannelDefinition,
  ClientStream,
  EventInput,
  EventName,
  EventPayload,
  HandlerContext,
  Handlers,
  InputOf,
  MethodSchemas,
  OutputOf,
  PeerInfo,
  RpcHandler,
  RpcProxy,
  Schema,
  StreamHandler,
  StreamOptions,
  StreamProxy,
} from './contract/types.js';
export {
  ErrorCode,
  ProcwireError,
  type CustomErrorCodes,
  type ErrorCodeString,
  type KnownErrorCode,
  type ProcwireErrorOptions,
} from './errors/index.js';
export type { Link, LinkAcceptor, LinkCapabilities, LinkEvents } from './link/link.js';
export { createStreamLink, type StreamLinkOptions } from './link/streamLink.js';
export {
  createClient,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type Client,
  type ClientOptions,
  type EventListener,
} from './rpc/client.js';
export { checkCallback, checkFlag, checkTimeout, resolveClientOptions, type UncheckedClientOptions } from './rpc/clientOptions.js';
export {
  createServer,
  GENERIC_HANDLER_ERROR_MESSAGE,
  type CloseOptions,
  type HandlerErrorInfo,
  type Server,
  type ServerOptions,
  type ServerStats,
} from './rpc/server.js';
export { DEFAULT_STREAM_WINDOW } from './streams/clientStream.js';
export { decode, encode } from './wire/codec.js';
export { MessageType, PROTOCOL_VERSION, MAX_MSGID, ACCEPTED_EXTENSION_TYPES } from './wire/constants.js';
export { FrameDelimiter, checkFrame } from './wire/frameDelimiter.js';
export {
  DEFAULT_FRAME_LIMITS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_MAX_FRAME_BYTES,
  HARD_MAX_FRAME_BYTES,
  resolveFrameLimits,
  type FrameLimits,
} from './wire/limits.js';
export {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_UID,
  DEFAULT_MAX_PENDING_CALLS,
  DEFAULT_MAX_SEND_QUEUE_BYTES,
  type AllowRule,
  type ServerLimits,
} from './rpc/serverLimits.js';
