import type { FrameLimits, Link, LinkAcceptor } from '@procwire/core';
import type { Endpoint } from './endpoint.js';

export interface ListenOptions {
  readonly limits?: Partial<FrameLimits>;
}

export interface ConnectOptions {
  readonly limits?: Partial<FrameLimits>;
  /** Keep retrying while nothing listens at the endpoint, up to this many ms (default 0: fail at once). */
  readonly waitMs?: number;
}

/**
 * A transport turns endpoints of its scheme into links. Each transport file
 * states its contract at the top: ordering, who creates and who opens, and
 * what happens when a peer vanishes.
 */
export interface Transport {
  /** URL scheme without the colon (`unix`, `tcp`, `socketpair`). */
  readonly scheme: string;
  /** Platforms where the transport works; absent means everywhere Node runs. */
  readonly platforms?: readonly NodeJS.Platform[];
  listen(endpoint: Endpoint, options: ListenOptions): Promise<LinkAcceptor>;
  connect(endpoint: Endpoint, options: ConnectOptions): Promise<Link>;
}
