/**
 * Every option of serve(), connect() and spawn(), checked before anything is
 * opened: a value out of range is INVALID_ARGUMENT naming the option and
 * what it takes, never a crash later in a callback (where nothing could
 * catch it) nor a link, a named object or a process left behind.
 *
 * Values whose checks live elsewhere are checked by that code, called
 * here: frame limits (core's resolveFrameLimits), client options (core's
 * resolveClientOptions), access, reconnect backoff. The server limits and
 * `allow` rule are checked by core's createServer, which serve() runs
 * before it listens.
 */
import { constants as osConstants } from 'node:os';
import {
  checkCallback,
  checkFlag,
  ErrorCode,
  ProcwireError,
  resolveClientOptions,
  resolveFrameLimits,
  type FrameLimits,
  type UncheckedClientOptions,
} from '@procwire/core';
import { checkAccess } from './names/ownedNames.js';
import type { AccessMode } from './transport.js';

/** setTimeout's ceiling: a longer wait would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Signals a process cannot catch: a handler for them cannot be installed. */
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

function invalid(message: string): ProcwireError {
  return new ProcwireError(ErrorCode.INVALID_ARGUMENT, message);
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/** The options argument itself: an object or left out. */
function checkOptionsObject(options: unknown, what: string): void {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw invalid(`${what}: options must be an object; got ${shown(options)}`);
  }
}

/** `limits`: an object of frame limits, each in core's range; resolved with the defaults. */
export function checkFrameLimits(limits: unknown): FrameLimits {
  if (limits !== undefined && (typeof limits !== 'object' || limits === null || Array.isArray(limits))) {
    throw invalid(`limits must be an object such as { maxFrameBytes: 1048576 }; got ${shown(limits)}`);
  }
  try {
    return resolveFrameLimits(limits as Partial<FrameLimits> | undefined);
  } catch (error) {
    throw invalid(`limits.${(error as Error).message}`);
  }
}

/** A number of ms in [0, max] (a fraction is fine). */
function checkMs(value: unknown, name: string, max: number, zero: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= max)) {
    throw invalid(`${name} must be a number of milliseconds from 0 (${zero}) to ${max}; got ${shown(value)}`);
  }
  return value;
}

export interface CheckedServeOptions {
  readonly limits: FrameLimits;
  readonly access: AccessMode;
  readonly signals: readonly NodeJS.Signals[];
  readonly graceMs: number;
}

export function checkServeOptions(
  options: {
    readonly limits?: unknown;
    readonly access?: unknown;
    readonly shutdownSignals?: unknown;
    readonly shutdownGraceMs?: unknown;
    readonly validate?: unknown;
    readonly onRefused?: unknown;
    readonly onProtocolError?: unknown;
    readonly exposeHandlerErrors?: unknown;
    readonly onHandlerError?: unknown;
  },
  defaults: { signals: readonly NodeJS.Signals[]; graceMs: number },
): CheckedServeOptions {
  checkOptionsObject(options, 'serve');
  checkFlag(options.validate, 'validate');
  checkCallback(options.onRefused, 'onRefused');
  checkCallback(options.onProtocolError, 'onProtocolError');
  checkFlag(options.exposeHandlerErrors, 'exposeHandlerErrors');
  checkCallback(options.onHandlerError, 'onHandlerError');
  return {
    limits: checkFrameLimits(options.limits),
    access: checkAccess(options.access),
    signals: checkSignals(options.shutdownSignals, defaults.signals),
    graceMs: checkMs(options.shutdownGraceMs ?? defaults.graceMs, 'shutdownGraceMs', MAX_TIMER_MS, 'no grace'),
  };
}

function checkSignals(value: unknown, defaults: readonly NodeJS.Signals[]): readonly NodeJS.Signals[] {
  if (value === undefined) return defaults;
  if (value === false) return [];
  const bad = () =>
    invalid(
      `shutdownSignals must be false or an array of signal names a process can catch, such as ['SIGTERM', 'SIGINT']; got ${shown(value)}`,
    );
  if (!Array.isArray(value)) throw bad();
  for (const signal of value) {
    if (typeof signal !== 'string' || !(signal in osConstants.signals) || UNCATCHABLE.has(signal)) {
      throw invalid(`shutdownSignals: ${shown(signal)} is not a signal name a process can catch (such as 'SIGTERM')`);
    }
  }
  return value as NodeJS.Signals[];
}

export interface CheckedConnectOptions {
  readonly limits: FrameLimits;
  readonly waitMs: number;
}

export function checkConnectOptions(
  options: UncheckedClientOptions & { readonly limits?: unknown; readonly waitMs?: unknown },
  what = 'connect',
): CheckedConnectOptions {
  checkOptionsObject(options, what);
  resolveClientOptions(options);
  const waitMs = options.waitMs ?? 0;
  if (typeof waitMs !== 'number' || !(waitMs >= 0)) {
    throw invalid(`waitMs must be a non-negative number of milliseconds (0: fail at once); got ${shown(waitMs)}`);
  }
  return { limits: checkFrameLimits(options.limits), waitMs };
}

/** spawn()'s own options (the connect options are checked with checkConnectOptions). */
export function checkSpawnOptions(options: {
  readonly args?: unknown;
  readonly env?: unknown;
  readonly cwd?: unknown;
  readonly execArgv?: unknown;
  readonly stdio?: unknown;
  readonly exitTimeoutMs?: unknown;
}): { exitTimeoutMs: number } {
  for (const name of ['args', 'execArgv'] as const) {
    const list = options[name];
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === 'string'))) {
      throw invalid(`spawn: ${name} must be an array of strings; got ${shown(list)}`);
    }
  }
  const env = options.env;
  if (env !== undefined && (typeof env !== 'object' || env === null || Array.isArray(env))) {
    throw invalid(`spawn: env must be an object of environment variables; got ${shown(env)}`);
  }
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || options.cwd === '')) {
    throw invalid(`spawn: cwd must be a directory path; got ${shown(options.cwd)}`);
  }
  const stdio = options.stdio;
  if (stdio !== undefined && stdio !== 'inherit' && stdio !== 'ignore' && stdio !== 'pipe') {
    throw invalid(`spawn: stdio must be 'inherit', 'ignore' or 'pipe'; got ${shown(stdio)}`);
  }
  return { exitTimeoutMs: checkMs(options.exitTimeoutMs ?? 5000, 'spawn: exitTimeoutMs', MAX_TIMER_MS, 'SIGTERM at once') };
}

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
