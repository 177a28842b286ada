import { setTimeout as sleep } from 'node:timers/promises';
import {
  ErrorCode,
  ProcwireError,
  createClient,
  createServer,
  type Channel,
  type Client,
  type ClientOptions,
  type Handlers,
  type Link,
  type LinkAcceptor,
  type Server,
  type ServerOptions,
} from '@procwire/core';
import { resolveEndpoint } from './registry.js';
import { checkReconnect, reconnectingClient, type ReconnectOptions } from './reconnect.js';
import { checkConnectOptions, checkServeOptions, rejectTcpOnlyOptions } from './options.js';
import { isPermanent } from './links/permanent.js';
import type { ListenOptions, TransportConnectOptions } from './transport.js';
import { closeOnSignals } from './signals.js';

/** serve()'s options: the server's (core) and the listening transport's, plus what serve() itself adds. */
export interface ServeOptions extends ServerOptions, ListenOptions {
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

/** connect()'s options: the client's (core) and the transport's, plus reconnecting. */
export interface ConnectOptions extends ClientOptions, TransportConnectOptions {
  /**
   * Connect again, with backoff, whenever the connection is lost (`true`
   * for the default backoff). Calls in flight then fail with PEER_GONE and
   * are never replayed; calls made while disconnected fail at once.
   */
  readonly reconnect?: boolean | ReconnectOptions;
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
  const checked = checkServeOptions(options, { signals: DEFAULT_SHUTDOWN_SIGNALS, graceMs: DEFAULT_SHUTDOWN_GRACE_MS });
  checkAllowSupported(options, transport.scheme, transport.peerCredentials === true);
  if (transport.scheme !== 'tcp') rejectTcpOnlyOptions(transport.scheme, options);
  // The server exists before the endpoint is opened, so that core checks
  // its own options (limits, allow, the handlers) before anything is
  // opened; it starts accepting once the transport listens.
  const deferred = deferredAcceptor();
  const server = createServer(channel, handlers, deferred.acceptor, options);
  try {
    deferred.listening(
      await transport.listen(endpoint, {
        limits: checked.limits,
        access: checked.access,
        secret: options.secret,
        tls: options.tls,
        onRefused: options.onRefused,
      }),
    );
  } catch (error) {
    await server.close();
    throw error;
  }
  const forget = closeOnSignals(server, checked.signals, checked.graceMs);
  void server.closed.then(forget);
  return server;
}

/**
 * An acceptor that takes its callbacks now and passes them on to the
 * transport's acceptor once that listens (closing before is a no-op).
 * A transport that can no longer accept ends its acceptor with the reason:
 * the server then closes (core) and the reason is reported here as a
 * process warning, so a server that serves nobody never looks alive in
 * silence.
 */
function deferredAcceptor(): { acceptor: LinkAcceptor; listening(real: LinkAcceptor): void } {
  let real: LinkAcceptor | undefined;
  let callbacks: [(link: Link) => void, ((error?: Error) => void) | undefined] | undefined;
  return {
    acceptor: {
      get url() {
        return real?.url ?? '';
      },
      start(onLink, onEnd) {
        callbacks = [onLink, onEnd];
      },
      close: () => real?.close() ?? Promise.resolve(),
    },
    listening(acceptor) {
      real = acceptor;
      if (!callbacks) return;
      const [onLink, onEnd] = callbacks;
      acceptor.start(onLink, (error) => {
        if (error) process.emitWarning(error);
        onEnd?.(error);
      });
    },
  };
}

/**
 * Connects to a server of `channel` at the endpoint URL. Resolves after the
 * handshake has confirmed the server serves the same channel and version.
 */
export async function connect<C extends Channel<any>>(channel: C, url: string, options: ConnectOptions = {}): Promise<Client<C>> {
  const { endpoint, transport } = resolveEndpoint(url);
  const checked = checkConnectOptions(options);
  const reconnect = checkReconnect(options.reconnect);
  if (transport.scheme !== 'tcp') rejectTcpOnlyOptions(transport.scheme, options);
  // An inherited connection (spawn only) cannot be dialled again.
  if (reconnect && transport.inherited) {
    throw new ProcwireError(
      ErrorCode.INVALID_ARGUMENT,
      `reconnect: a ${transport.scheme}: connection is inherited and cannot be dialled again`,
    );
  }
  const open = async (waitMs: number) => {
    const deadline = Date.now() + waitMs;
    let pause = 5;
    for (;;) {
      try {
        const link = await transport.connect(endpoint, {
          limits: checked.limits,
          waitMs: Math.max(0, deadline - Date.now()),
          secret: options.secret,
          tls: options.tls,
        });
        return await createClient(channel, link, options);
      } catch (error) {
        // A server at capacity (its transport handshakes or its connection
        // limit) refuses at once; within waitMs that is worth another try.
        // A limit of this process (its descriptors, its queue memory) is
        // not: waiting for the server cannot lift it.
        const code = (error as ProcwireError).code;
        const left = deadline - Date.now();
        if ((code !== ErrorCode.CONNECT_FAILED && code !== ErrorCode.TOO_MANY_CONNECTIONS) || isPermanent(error) || left <= 0) throw error;
        await sleep(Math.min(pause, left));
        pause = Math.min(pause * 2, 200);
      }
    }
  };
  if (!reconnect) return open(checked.waitMs);
  const first = await open(checked.waitMs);
  return reconnectingClient(channel, first, () => open(0), reconnect);
}

/**
 * An `allow` list of uids or gids can only be kept where the kernel tells the
 * server who the peer is; anywhere else it would have to refuse every peer,
 * which is surely not what was meant.
 */
function checkAllowSupported(options: ServeOptions, scheme: string, hasCredentials: boolean): void {
  const allow = options.allow;
  if (allow === undefined || typeof allow === 'function' || hasCredentials) return;
  throw new ProcwireError(
    ErrorCode.INVALID_ARGUMENT,
    `allow: ${scheme}: cannot tell a peer's uid or gid; pass a function to decide on what it does tell (ctx.peer), or use unix:, shm:, mq: or fifo:`,
  );
}
