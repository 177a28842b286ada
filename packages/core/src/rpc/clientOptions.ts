import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { checkLimit } from '../wire/limits.js';
import { DEFAULT_HEARTBEAT_MS } from './heartbeat.js';
import { DEFAULT_MAX_PENDING_CALLS } from './serverLimits.js';
import type { ClientOptions } from './client.js';

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
/** Longer timeouts than Node timers can hold mean "no timeout". */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The checks of option values shared by clients and servers. connect() and
 * spawn() run them before they open anything, so an out-of-range option
 * never leaves a connection (or a process) behind.
 */

/** A timeout in ms: a non-negative number (0 = none; past what Node timers hold, none). */
export function checkTimeout(value: unknown, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new ProcwireError(
      ErrorCode.INVALID_ARGUMENT,
      `${name} must be a non-negative number of milliseconds (0 = none); got ${describe(value)}`,
    );
  }
  return value;
}

/** An optional callback: a function or left out. */
export function checkCallback(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `${name} must be a function; got ${describe(value)}`);
  }
}

/** An optional switch: true, false or left out. */
export function checkFlag(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `${name} must be true or false; got ${describe(value)}`);
  }
}

export interface ResolvedClientOptions {
  readonly callTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly maxPendingCalls: number;
}

/** ClientOptions as a caller may pass them, before any check: every value unknown. */
export type UncheckedClientOptions = { readonly [K in keyof ClientOptions]?: unknown };

/** Every ClientOptions value checked, with defaults filled in. */
export function resolveClientOptions(options: UncheckedClientOptions): ResolvedClientOptions {
  checkFlag(options.validate, 'validate');
  for (const name of ['onUnresponsive', 'onResponsive', 'onError'] as const) checkCallback(options[name], name);
  return {
    callTimeoutMs: checkTimeout(options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, 'callTimeoutMs'),
    handshakeTimeoutMs: checkTimeout(options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, 'handshakeTimeoutMs'),
    heartbeatMs: checkTimeout(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, 'heartbeatMs'),
    maxPendingCalls: checkLimit('maxPendingCalls', options.maxPendingCalls ?? DEFAULT_MAX_PENDING_CALLS, 1, 1_000_000),
  };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
