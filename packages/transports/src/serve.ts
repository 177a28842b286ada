import {
  createClient,
  createServer,
  type Channel,
  type Client,
  type ClientOptions,
  type FrameLimits,
  type Handlers,
  type Server,
  type ServerOptions,
} from '@procwire/core';
import { resolveEndpoint } from './registry.js';
import { closeOnSignals } from './signals.js';

export interface ServeOptions extends ServerOptions {
  /** Frame limits for every connection (defaults: 4 MiB, depth 64, 100k elements). */
  readonly limits?: Partial<FrameLimits>;
  /**
   * Signals on which the server shuts down gracefully and the process then
   * ends by that signal (default SIGTERM and SIGINT; `false` for none).
   */
  readonly shutdownSignals?: readonly NodeJS.Signals[] | false;
  /** Grace period for running calls on a shutdown signal (default 5000 ms). */
  readonly shutdownGraceMs?: number;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
const DEFAULT_SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export interface ConnectOptions extends ClientOptions {
  readonly limits?: Partial<FrameLimits>;
  /** Keep retrying while no server listens at the endpoint, up to this many ms (default 0). */
  readonly waitMs?: number;
}

/**
 * Serves `channel` at the endpoint URL with the given handlers. Resolves once
 * the endpoint is listening.
 */
export async function serve<C extends Channel<any>>(
  channel: C,
  url: string,
  handlers: Handlers<C>,
  options: ServeOptions = {},
): Promise<Server<C>> {
  const { endpoint, transport } = resolveEndpoint(url);
  const acceptor = await transport.listen(endpoint, { limits: options.limits });
  let server: Server<C>;
  try {
    server = createServer(channel, handlers, acceptor, options);
  } catch (error) {
    await acceptor.close();
    throw error;
  }
  const signals = options.shutdownSignals === false ? [] : (options.shutdownSignals ?? DEFAULT_SHUTDOWN_SIGNALS);
  const forget = closeOnSignals(server, signals, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
  void server.closed.then(forget);
  return server;
}

/**
 * Connects to a server of `channel` at the endpoint URL. Resolves after the
 * handshake has confirmed the server serves the same channel and version.
 */
export async function connect<C extends Channel<any>>(
  channel: C,
  url: string,
  options: ConnectOptions = {},
): Promise<Client<C>> {
  const { endpoint, transport } = resolveEndpoint(url);
  const link = await transport.connect(endpoint, { limits: options.limits, waitMs: options.waitMs });
  return createClient(channel, link, options);
}
