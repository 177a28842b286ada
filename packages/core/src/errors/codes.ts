/**
 * Every error procwire raises carries one of these stable string codes. The
 * code crosses the wire unchanged, so callers can branch on it whichever
 * process the error started in. Handlers may also throw their own codes
 * (any string in SCREAMING_SNAKE_CASE, see CustomErrorCodes); these are the
 * ones procwire defines.
 */
export const ErrorCode = {
  /** The call did not complete within its timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The caller aborted the call through its AbortSignal. */
  CANCELLED: 'CANCELLED',
  /** The other process went away (closed, crashed, killed) before answering. */
  PEER_GONE: 'PEER_GONE',
  /** The server is shutting down: it takes no new calls, and calls still running when its grace period ends get this. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** This side was closed by its own user; no further calls are possible. */
  CLOSED: 'CLOSED',
  /** The server's schema rejected the input; the handler was not called. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** The client's schema rejected an output, an event payload or a stream item. */
  INVALID_OUTPUT: 'INVALID_OUTPUT',
  /** The server has no method of that name. */
  METHOD_NOT_FOUND: 'METHOD_NOT_FOUND',
  /** The handler threw an error that was not a ProcwireError. */
  HANDLER_ERROR: 'HANDLER_ERROR',
  /** The server serves another version of the channel. */
  VERSION_MISMATCH: 'VERSION_MISMATCH',
  /** The server serves another channel altogether. */
  CHANNEL_MISMATCH: 'CHANNEL_MISMATCH',
  /** The peer broke the wire protocol (malformed frame, bad message shape). */
  PROTOCOL: 'PROTOCOL',
  /** A frame exceeded the size, depth or element limit. */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** The endpoint URL is malformed or names an unknown transport. */
  INVALID_ENDPOINT: 'INVALID_ENDPOINT',
  /** The contract given to defineChannel is malformed. */
  INVALID_CONTRACT: 'INVALID_CONTRACT',
  /** A live server already owns the endpoint. */
  ADDRESS_IN_USE: 'ADDRESS_IN_USE',
  /** The server could not listen at the endpoint (missing directory, no permission). */
  LISTEN_FAILED: 'LISTEN_FAILED',
  /** No server could be reached at the endpoint. */
  CONNECT_FAILED: 'CONNECT_FAILED',
  /** The transport is not available on this platform or build. */
  UNSUPPORTED: 'UNSUPPORTED',
  /** The peer is not allowed to connect (an `allow` rule, a wrong shared secret, a refused certificate). */
  ACCESS_DENIED: 'ACCESS_DENIED',
  /** The server holds as many connections as its limits allow (in total or from this uid). */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** The connection already has as many calls and streams running as its limit allows. */
  TOO_MANY_PENDING: 'TOO_MANY_PENDING',
  /** The peer read too slowly: more was waiting to be sent to it than the send-queue limit. */
  SEND_QUEUE_FULL: 'SEND_QUEUE_FULL',
  /** A value given to a procwire function has the wrong type or range. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;

export type KnownErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
/**
 * Codes an application's handlers throw, declared so that `error.code` can
 * be compared with them:
 * `declare module '@procwire/core' { interface CustomErrorCodes { OUT_OF_STOCK: true } }`.
 */
export interface CustomErrorCodes {}

/**
 * The type of `ProcwireError.code`: procwire's codes and the declared custom
 * ones, so that a misspelt code (`e.code === 'TIMEOUTT'`) does not compile.
 * At run time a peer may still send a code neither knows;
 * `ProcwireError.is(error, 'SOME_CODE')` tests for any code.
 */
export type ErrorCodeString = KnownErrorCode | (keyof CustomErrorCodes & string);
