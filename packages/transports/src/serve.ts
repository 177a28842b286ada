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

export interface ServeOptions extends ServerOptions {
  /** Frame limits for every connection (defaults: 4 MiB, depth 64, 100k elements). */
  readonly limits?: Partial<FrameLimits>;
}

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
  try {
    return createServer(channel, handlers, acceptor, options);
  } catch (error) {
    await acceptor.close();
    throw error;
  }
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
