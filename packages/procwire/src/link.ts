/**
 * procwire/link: what transport authors and tests use. A transport turns an
 * endpoint URL into links (duplex carriers of whole frames); core runs
 * clients and servers over any link. Applications need none of this: they
 * import `procwire`. Every built-in transport object is here, so a test or
 * a wrapper can call one directly.
 */
export type {
  Link,
  LinkAcceptor,
  LinkCapabilities,
  LinkEvents,
  StreamLinkOptions,
  ClientOptions,
  ServerOptions,
  ServerLimits,
  UncheckedClientOptions,
} from '@procwire/core';
export { createStreamLink, createClient, createServer, isChannel } from '@procwire/core';
export {
  encode,
  decode,
  FrameDelimiter,
  checkFrame,
  MessageType,
  PROTOCOL_VERSION,
  MAX_MSGID,
  ACCEPTED_EXTENSION_TYPES,
} from '@procwire/core';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_STREAM_WINDOW,
  DEFAULT_FRAME_LIMITS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_MAX_FRAME_BYTES,
  HARD_MAX_FRAME_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_UID,
  DEFAULT_MAX_PENDING_CALLS,
  DEFAULT_MAX_SEND_QUEUE_BYTES,
  GENERIC_HANDLER_ERROR_MESSAGE,
  resolveFrameLimits,
  resolveClientOptions,
  checkCallback,
  checkFlag,
  checkTimeout,
} from '@procwire/core';
export { registerTransport, resolveEndpoint, parseEndpoint, DEFAULT_SHUTDOWN_GRACE_MS } from '@procwire/transports';
export type { Endpoint, Transport, ListenOptions, TransportConnectOptions } from '@procwire/transports';
export { SEMAPHORE_RECOVERY_MS } from '@procwire/sync';
export {
  unixTransport,
  tcpTransport,
  socketPairTransport,
  pipeTransport,
  fifoTransport,
  mqueueTransport,
  shmTransport,
  npipeTransport,
  mailslotTransport,
  SOCKETPAIR_FD_ENV,
  PIPE_FDS_ENV,
} from '@procwire/transports';
