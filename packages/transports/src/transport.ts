/**
 * A transport turns the endpoint URLs of its scheme into links. Every
 * transport keeps this contract; the header of each transport's index.ts
 * says only what is particular to it (its names, its handshake, its limits).
 *
 * - Ordering: the frames of one connection arrive whole, once, and in the
 *   order they were sent. Nothing is dropped: a full buffer, ring or queue
 *   is backpressure, the writer waits.
 * - Who creates names: the server creates the endpoint's named objects
 *   (socket file, FIFO, queue, rendezvous socket, pipe name), already with
 *   their final mode; a client creates only what is its own connection's.
 *   A name left by a process that is gone (as the kernel says for sure) is
 *   replaced; a name a live server answers on gives ADDRESS_IN_USE; a name
 *   another user owns is refused, naming the owner, and never removed.
 *   Closing the server removes the names it created, and only those.
 *   `namedObjects` lists and removes what a killed process left behind.
 * - Peer vanishes: when the process at the other end dies, however it dies,
 *   the kernel tells the survivor (a closed socket, end-of-file, a broken
 *   pipe), and the survivor's link closes at once, so pending calls reject
 *   with PEER_GONE. No transport relies on a timeout to notice a local peer.
 * - Access: named objects are the server's user's only (0600), or its
 *   group's too with `access: 'group'` (0660); a client of another user
 *   gets in only where those modes let it. A connection refused at accept
 *   is closed before core reads a byte of it and reported to `onRefused`.
 * - Handshakes: a connection that must say something before it is a link
 *   holds a slot of the listener's HandshakeGate (handshake/gate.ts): a
 *   bounded number at once (64), each within TRANSPORT_HANDSHAKE_TIMEOUT_MS
 *   (5 s, which is also how long a client waits for the server's side); past
 *   either, the connection is closed and reported to `onRefused`
 *   (TOO_MANY_CONNECTIONS, TIMEOUT).
 * - Failures: bad input is a ProcwireError (INVALID_ENDPOINT, LISTEN_FAILED,
 *   CONNECT_FAILED, ...), thrown before anything is opened where it can be
 *   known then; a listener that can no longer accept ends its acceptor with
 *   the reason, so the server reports it and closes rather than looking
 *   alive while serving nobody.
 */
import type { FrameLimits, Link, LinkAcceptor, PeerInfo, ProcwireError } from '@procwire/core';
import type { Endpoint } from './endpoint.js';
import type { WorkerWiring } from './inherited/workerWiring.js';

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

/** What a transport's connect() takes; connect()'s own options extend it. */
export interface TransportConnectOptions {
  /** Frame limits of this connection (defaults: 4 MiB, depth 64, 100k elements). */
  readonly limits?: Partial<FrameLimits>;
  /**
   * Keep retrying, up to this many ms, while no server listens at the
   * endpoint or the server is at capacity (CONNECT_FAILED,
   * TOO_MANY_CONNECTIONS). Default 0: fail at once.
   */
  readonly waitMs?: number;
  /** `tcp:` only: the server's shared secret. */
  readonly secret?: SharedSecret;
  /** `tcp:` only: connect over TLS. */
  readonly tls?: TlsClientOptions | true;
}

/** A name an endpoint put in the file system or the kernel. */
export interface NamedObject {
  /** What it is. */
  readonly kind: 'socket' | 'fifo' | 'fifo-pair' | 'queue' | 'control-socket' | 'rendezvous-socket';
  /** A file system path, or a message queue name (`/calc`). */
  readonly name: string;
  /**
   * live: a process uses it (a server answers on it, a process holds it
   * open), or that cannot be ruled out; stale: left by a process that is
   * gone, as the kernel says for sure. Only stale objects are ever removed.
   */
  readonly state: 'live' | 'stale';
}

/** How a transport finds and removes the names its endpoints leave behind. */
export interface NamedObjects {
  /** Every name of `endpoint` that exists now, each live or stale. */
  list(endpoint: Endpoint): Promise<NamedObject[]>;
  /** Removes one stale object that `list` returned (and what holds only it, such as its directory); throws if it is gone. */
  remove(object: NamedObject, endpoint: Endpoint): void;
}

/** A transport whose only peer is a worker started by spawn(): it inherits its end, nothing is dialled. */
export interface Inherited {
  /** The parent's side: what the worker inherits and the parent's link. */
  wiring(): WorkerWiring;
}

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
  /** Set for spawn-only transports: the worker serves on an inherited end, and connect() is refused. */
  readonly inherited?: Inherited;
  /** Absent when the transport's endpoints leave no names (abstract, inherited, or gone with their last handle). */
  readonly namedObjects?: NamedObjects;
  listen(endpoint: Endpoint, options: ListenOptions): Promise<LinkAcceptor>;
  connect(endpoint: Endpoint, options: TransportConnectOptions): Promise<Link>;
}
