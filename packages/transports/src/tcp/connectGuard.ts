/**
 * The connecting side of `tcp:` with a shared secret and/or TLS: connect,
 * complete TLS, prove the secret, and only then make the link. The whole
 * transport handshake has one deadline, so a server that expects something
 * else cannot keep `connect` waiting.
 */
import { createConnection, type Socket } from 'node:net';
import type { Link, LinkEvents } from '@procwire/core';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { connectWithRetry } from '../links/connectRetry.js';
import { TRANSPORT_HANDSHAKE_TIMEOUT_MS } from '../handshake/gate.js';
import { interceptLink } from '../links/interceptLink.js';
import { loadSharedSecret } from './sharedSecretSource.js';
import { isSecretServerHello, proveSecret, type ProveOptions } from './secret.js';
import { connectTls, tlsClientPlan, tlsFailure, type TlsClientPlan } from './tls.js';
import type { TransportConnectOptions } from '../transport.js';

export function needsTcpGuard(options: TransportConnectOptions): boolean {
  return options.secret !== undefined || options.tls !== undefined;
}

/**
 * Connects to a `tcp:` server with the secret and/or TLS of `options` and
 * returns the link `linkOf` makes of the finished socket.
 */
export async function connectTcpGuarded(
  host: string,
  port: number,
  where: string,
  options: TransportConnectOptions,
  linkOf: (socket: Socket) => Link,
): Promise<Link> {
  const secret = await loadSharedSecret(options.secret);
  const plan = options.tls === undefined ? undefined : tlsClientPlan(options.tls, host);
  const what = [plan && 'TLS', secret && 'shared-secret'].filter(Boolean).join(' and ');
  return connectWithRetry(where, options.waitMs ?? 0, async () => {
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Counted from the TCP connection, so waiting for a listener (waitMs) is not part of it.
    const startDeadline = () => {
      timer = setTimeout(() => {
        deadline.abort(
          new ProcwireError(
            ErrorCode.TIMEOUT,
            `${where} did not complete the ${what} handshake within ${TRANSPORT_HANDSHAKE_TIMEOUT_MS} ms; does the server use ${plan ? 'TLS' : 'a secret'} too?`,
          ),
        );
      }, TRANSPORT_HANDSHAKE_TIMEOUT_MS);
      timer.unref();
    };
    try {
      const socket = plan
        ? await connectTls(host, port, plan, where, deadline.signal, startDeadline)
        : await connectPlain(host, port, startDeadline);
      try {
        if (secret) await proveSecret(socket, secret, where, deadline.signal, proveOptions(where, plan));
      } catch (error) {
        socket.destroy();
        throw error;
      }
      return plan ? explainTlsRefusal(linkOf(socket), socket, where, plan, secret !== undefined) : linkOf(socket);
    } finally {
      clearTimeout(timer);
    }
  });
}

function connectPlain(host: string, port: number, onConnect: () => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.off('error', reject);
      onConnect();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function proveOptions(where: string, plan: TlsClientPlan | undefined): ProveOptions {
  if (!plan) return {};
  return {
    translate: (error) => tlsFailure(error, where, plan),
    // Over TLS 1.3 a refused client certificate shows only as this close.
    ...(plan.presentsCertificate ? { closedEarly: 'it did not accept our client certificate, or it is refusing connections' } : {}),
  };
}

/**
 * Over TLS 1.3 the client finishes its handshake before the server has
 * checked the client's certificate; a refusal arrives later, as an alert or
 * as a bare close before the server said anything. Either way connect()
 * rejects with ACCESS_DENIED instead of a bare socket error. A server that
 * also wants a secret (and got none) is told apart by its first bytes.
 */
function explainTlsRefusal(link: Link, socket: Socket, where: string, plan: TlsClientPlan, serverProvedSecret: boolean): Link {
  let answered = serverProvedSecret;
  return interceptLink(link, (events: LinkEvents) => {
    socket.prependOnceListener('data', (chunk: Buffer) => {
      answered = true;
      if (!serverProvedSecret && isSecretServerHello(chunk)) link.destroy(secretRequired(where));
    });
    return {
      close: (error) => {
        if (error) return events.close(tlsFailure(error, where, plan));
        if (!answered && plan.presentsCertificate) {
          return events.close(
            new ProcwireError(
              ErrorCode.ACCESS_DENIED,
              `${where} closed the TLS connection before answering: it did not accept our client certificate, or it is refusing connections`,
            ),
          );
        }
        events.close();
      },
    };
  });
}

/**
 * A plain tcp client that reached a server asking for a secret or speaking
 * TLS would otherwise fail on a frame check ("0xC1 in frame") or get "not a
 * procwire server". The first chunk tells which: the link is then closed
 * with that explanation before its frame reader sees the chunk.
 */
export function explainSecretOrTlsServer(link: Link, socket: Socket, where: string): Link {
  return interceptLink(link, () => {
    socket.prependOnceListener('data', (chunk: Buffer) => {
      if (isSecretServerHello(chunk)) {
        link.destroy(secretRequired(where));
      } else if (isTlsRecord(chunk)) {
        link.destroy(new ProcwireError(ErrorCode.CONNECT_FAILED, `${where} speaks TLS: connect with { tls }`));
      }
    });
    return {};
  });
}

function secretRequired(where: string): ProcwireError {
  return new ProcwireError(ErrorCode.ACCESS_DENIED, `${where} requires a shared secret: connect with { secret }`);
}

/** A TLS alert or handshake record (content type 21 or 22, version 3.x): never the start of a procwire frame from a server. */
function isTlsRecord(chunk: Buffer): boolean {
  return chunk.length >= 2 && (chunk[0] === 0x15 || chunk[0] === 0x16) && chunk[1] === 0x03;
}
