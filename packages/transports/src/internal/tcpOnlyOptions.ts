import { ErrorCode, ProcwireError } from '@procwire/core';

/**
 * `secret` and `tls` are for tcp: only. Every other transport's endpoints
 * are operating system objects guarded by file modes and peer credentials;
 * taking the options there and ignoring them would promise a protection
 * that is not there, so they are refused.
 */
export function rejectTcpOnlyOptions(scheme: string, options: { readonly secret?: unknown; readonly tls?: unknown }): void {
  const given = [options.secret !== undefined && 'secret', options.tls !== undefined && 'tls'].filter(Boolean);
  if (given.length === 0) return;
  throw new ProcwireError(
    ErrorCode.INVALID_ARGUMENT,
    `${given.join(' and ')}: only tcp: endpoints take ${given.length > 1 ? 'these options' : 'this option'}; ${scheme}: endpoints are guarded by the operating system (file modes, peer credentials)`,
  );
}
