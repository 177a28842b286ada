/**
 * Wire constants. docs/PROTOCOL.md describes each one with byte examples;
 * test/protocol checks the examples against the encoder, so the two cannot
 * drift apart.
 */

/** Version of procwire's own protocol additions, sent in the handshake. */
export const PROTOCOL_VERSION = 1;

/** First element of every message array. */
export const MessageType = {
  /** msgpack-rpc request: [0, msgid, method, params] */
  REQUEST: 0,
  /** msgpack-rpc response: [1, msgid, error, result] */
  RESPONSE: 1,
  /** msgpack-rpc notification: [2, method, params]; procwire events */
  NOTIFICATION: 2,
  /** procwire handshake, both directions: [3, {procwire, channel, version}] */
  HELLO: 3,
  /** procwire cancellation of a request or stream: [4, msgid] */
  CANCEL: 4,
  /** procwire stream start: [5, msgid, method, params, credit] */
  STREAM_OPEN: 5,
  /** procwire stream item: [6, msgid, item] */
  STREAM_ITEM: 6,
  /** procwire stream end: [7, msgid, error] (error nil on success) */
  STREAM_END: 7,
  /** procwire stream credit, from reader to producer: [8, msgid, credit] */
  STREAM_CREDIT: 8,
} as const;

/** msgpack-rpc message ids are 32-bit unsigned integers. */
export const MAX_MSGID = 0xffff_ffff;

/** Separates the channel name from the member name in wire method names. */
export const METHOD_SEPARATOR = '.';

/** Only this msgpack extension type is accepted from a peer: the timestamp (Date). */
export const ACCEPTED_EXTENSION_TYPES: ReadonlySet<number> = new Set([-1]);

/**
 * Method names that start with this are the protocol's own; a channel's
 * wire names (`channel.member`) can never take this form.
 */
export const RESERVED_METHOD_PREFIX = '$/';
/** Notification a server sends before hanging up on a connection it will not serve: [2, "$/refused", [{code, message}]]. */
export const REFUSED_NOTIFICATION = `${RESERVED_METHOD_PREFIX}refused` as const;
/** Request a client sends to check that its server still answers: [0, msgid, "$/ping", []]. */
export const PING_METHOD = `${RESERVED_METHOD_PREFIX}ping` as const;
