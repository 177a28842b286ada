import type { ErrorCodeString } from './codes.js';

export interface ProcwireErrorOptions {
  /** Structured detail that crosses the wire (must be msgpack-encodable). */
  data?: unknown;
  /** The lower-level error this one wraps; stays in this process. */
  cause?: unknown;
}

/**
 * The one error class of procwire. `code` is stable and crosses the wire;
 * `message` is for people; `data` carries structured detail such as
 * validation issues. A ProcwireError thrown by a handler reaches the caller
 * with its own code; any other thrown value arrives as HANDLER_ERROR.
 */
export class ProcwireError extends Error {
  override readonly name = 'ProcwireError';
  readonly code: ErrorCodeString;
  readonly data: unknown;

  /** `code` may be any string: a handler's own, or one a peer sent that this side does not know. */
  constructor(code: ErrorCodeString | (string & {}), message: string, options: ProcwireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code as ErrorCodeString;
    this.data = options.data;
  }

  /** Whether `value` is a ProcwireError, with `code` when given (any code, known to the types or not). */
  static is(value: unknown, code?: ErrorCodeString | (string & {})): value is ProcwireError {
    return value instanceof ProcwireError && (code === undefined || value.code === code);
  }
}
