import type { PeerInfo } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { checkLimit } from '../wire/limits.js';

/** Connections one server holds at most, from every peer together. */
export const DEFAULT_MAX_CONNECTIONS = 4096;
/** Connections one server holds at most from peers of one uid (where the transport knows it). */
export const DEFAULT_MAX_CONNECTIONS_PER_UID = 1024;
/** Calls and streams one connection may have running at once; the next is refused with TOO_MANY_PENDING. */
export const DEFAULT_MAX_PENDING_CALLS = 1024;
/**
 * Bytes a connection may have waiting to be sent before the server gives up
 * on it as a slow consumer. Replies are bounded by the pending-call limit
 * and stream items by their credit; this catches the rest (events).
 */
export const DEFAULT_MAX_SEND_QUEUE_BYTES = 64 * 1024 * 1024;

/**
 * Who may connect: a list of uids and/or gids (a peer matching either is
 * let in), or a function of what the transport knows about the peer.
 * Checked when the connection arrives, before any of its frames is read.
 */
export type AllowRule = { readonly uids?: readonly number[]; readonly gids?: readonly number[] } | ((peer: PeerInfo) => boolean);

export interface ServerLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerUid: number;
  readonly maxPendingCalls: number;
  readonly maxSendQueueBytes: number;
}

export function resolveServerLimits(options: Partial<ServerLimits>): ServerLimits {
  return Object.freeze({
    maxConnections: checkLimit('maxConnections', options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, 1, 1_000_000),
    maxConnectionsPerUid: checkLimit('maxConnectionsPerUid', options.maxConnectionsPerUid ?? DEFAULT_MAX_CONNECTIONS_PER_UID, 1, 1_000_000),
    maxPendingCalls: checkLimit('maxPendingCalls', options.maxPendingCalls ?? DEFAULT_MAX_PENDING_CALLS, 1, 1_000_000),
    maxSendQueueBytes: checkLimit(
      'maxSendQueueBytes',
      options.maxSendQueueBytes ?? DEFAULT_MAX_SEND_QUEUE_BYTES,
      64 * 1024,
      Number.MAX_SAFE_INTEGER,
    ),
  });
}

/**
 * TOO_MANY_PENDING, the same on both sides: `who` is "this connection"
 * (the server's count) or the caller's "<method>: this client".
 */
export function tooManyPending(who: string, limit: number): ProcwireError {
  return new ProcwireError(ErrorCode.TOO_MANY_PENDING, `${who} already runs maxPendingCalls (${limit}) calls and streams`, {
    data: { limit: 'maxPendingCalls', value: limit },
  });
}

/** Turns an `allow` option into a predicate, rejecting malformed rules at once. */
export function compileAllow(rule: AllowRule | undefined): ((peer: PeerInfo) => boolean) | undefined {
  if (rule === undefined) return undefined;
  if (typeof rule === 'function') return rule;
  if (typeof rule !== 'object' || rule === null) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'allow must be { uids?, gids? } or a function of the peer');
  }
  const uids = idSet('allow.uids', rule.uids);
  const gids = idSet('allow.gids', rule.gids);
  if (uids.size === 0 && gids.size === 0) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, 'allow: give at least one uid or gid (an empty rule would refuse everyone)');
  }
  return (peer) => (peer.uid !== undefined && uids.has(peer.uid)) || (peer.gid !== undefined && gids.has(peer.gid));
}

function idSet(name: string, ids: readonly number[] | undefined): Set<number> {
  if (ids === undefined) return new Set();
  if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `${name} must be an array of non-negative integers`);
  }
  return new Set(ids);
}
