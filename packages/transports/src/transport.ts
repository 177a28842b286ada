import type { FrameLimits, Link, LinkAcceptor, PeerInfo, ProcwireError } from '@procwire/core';
import type { Endpoint } from './endpoint.js';

/**
 * Who may open the named objects a server creates (socket files, FIFOs,
 * message queues, the shared-memory rendezvous): 'owner' (0600, the
 * default) or 'group' (0660: the server's group too).
 */
export type AccessMode = 'owner' | 'group';

/**
 * Where a `tcp:` shared secret comes from: a file readable by its owner only
 * (0600 or stricter, checked), an environment variable, or the value itself.
 */
export type SharedSecret = { readonly file: string } | { readonly env: string } | { readonly value: string | Uint8Array };

/** TLS for `tcp:` (PEM strings or buffers, as Node's `tls` takes them). */
export interface TlsServerOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Certificate authorities whose client certificates are accepted; with it, clients must present one. */
  readonly ca?: string | Buffer;
}

export interface TlsClientOptions {
  /** Authorities trusted for the server's certificate (default: Node's bundled roots). */
  readonly ca?: string | Buffer;
  /** A client certificate and key, for servers that require one. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** The name the server's certificate must carry (default: the URL's host). */
  readonly servername?: string;
}

export interface ListenOptions {
  readonly limits?: Partial<FrameLimits>;
  readonly access?: AccessMode;
  /** `tcp:` only: clients must prove they know this secret before any frame. */
  readonly secret?: SharedSecret;
  /** `tcp:` only: serve over TLS. */
  readonly tls?: TlsServerOptions;
  /**
   * Told of each connection the transport itself closes at accept, before
   * core sees it (a peer of another user on an abstract `unix:@name`).
   */
  readonly onRefused?: (error: ProcwireError, peer: PeerInfo) => void;
}

export interface ConnectOptions {
  readonly limits?: Partial<FrameLimits>;
  /** Keep retrying while nothing listens at the endpoint, up to this many ms (default 0: fail at once). */
  readonly waitMs?: number;
  /** `tcp:` only: the server's shared secret. */
  readonly secret?: SharedSecret;
  /** `tcp:` only: connect over TLS. */
  readonly tls?: TlsClientOptions | true;
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
  /**
   * Whether links of this transport carry the peer's uid and gid (from the
   * kernel, not from the peer's say-so). `allow` lists of uids or gids
   * need it; serve() refuses them on a transport without.
   */
  readonly peerCredentials?: boolean;
  listen(endpoint: Endpoint, options: ListenOptions): Promise<LinkAcceptor>;
  connect(endpoint: Endpoint, options: ConnectOptions): Promise<Link>;
}
