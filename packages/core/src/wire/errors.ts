import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';

/**
 * How errors travel in the error slot of a response or stream end.
 *
 * To a peer that completed the procwire handshake: a map
 * `{ code, message, data? }`, rebuilt as a ProcwireError on arrival.
 * To a plain msgpack-rpc client (no handshake): the string `"CODE: message"`,
 * the one shape every msgpack-rpc client (Neovim included) can show.
 */
export interface WireError {
  code: string;
  message: string;
  data?: unknown;
}

export function errorForWire(error: ProcwireError, richPeer: boolean): WireError | string {
  if (!richPeer) return `${error.code}: ${error.message}`;
  return error.data === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, data: error.data };
}

const CODE_PREFIX = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/;

/** Rebuilds an error from any shape a msgpack-rpc peer may put in the error slot. */
export function errorFromWire(value: unknown): ProcwireError {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { code, message, data } = value as Partial<WireError>;
    if (typeof code === 'string' && typeof message === 'string') return new ProcwireError(code, message, { data });
  }
  if (typeof value === 'string') {
    const match = CODE_PREFIX.exec(value);
    return match ? new ProcwireError(match[1]!, match[2]!) : new ProcwireError(ErrorCode.HANDLER_ERROR, value);
  }
  // Neovim's own shape: [kind, message].
  if (Array.isArray(value) && typeof value[1] === 'string') return errorFromWire(value[1]);
  return new ProcwireError(ErrorCode.HANDLER_ERROR, 'peer reported an error in an unrecognised shape', {
    data: value,
  });
}

/** Any thrown value, as the ProcwireError the caller will see. */
export function toProcwireError(error: unknown): ProcwireError {
  if (error instanceof ProcwireError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProcwireError(ErrorCode.HANDLER_ERROR, message, { cause: error });
}
