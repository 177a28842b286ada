/**
 * The accepting side of `tcp:` with a shared secret and/or TLS: every
 * connection goes through the HandshakeGate (a bounded number in handshake
 * at once, each with a deadline), then TLS, then the secret exchange, and is
 * handed over for a link only when all of them passed. A connection that
 * fails any of them is closed before core reads a byte of it.
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ErrorCode, ProcwireError, type PeerInfo } from '@procwire/core';
import { admitHandshake } from '../handshake/admission.js';
import { HandshakeGate, type HandshakeSlot } from '../handshake/gate.js';
import { loadSharedSecret } from './sharedSecretSource.js';
import { answerSecret } from './secret.js';
import { createTlsTcpServer } from './tls.js';
import type { ListenOptions } from '../transport.js';

export interface TcpAcceptGuard {
  /** The listening server (a tls.Server with TLS); the caller listens on it. */
  readonly server: NetServer;
  /** Aborts the handshakes still running (the server is closing). */
  close(): void;
}

interface Pending {
  readonly raw: Socket;
  readonly slot: HandshakeSlot;
  readonly peer: PeerInfo;
  /** Set once the connection's fate is decided, so it is reported once. */
  settled: boolean;
}

/**
 * Undefined when the options ask for neither a secret nor TLS (a plain
 * server). `deliver` receives each socket that passed; `onRefused` hears of
 * every connection closed on purpose: TOO_MANY_CONNECTIONS (the gate was
 * full), TIMEOUT (the deadline passed), ACCESS_DENIED (TLS or the secret
 * failed). A peer that leaves by itself is not reported.
 */
export async function guardTcpAccept(
  options: ListenOptions,
  deliver: (socket: Socket) => void,
  gate = new HandshakeGate(),
): Promise<TcpAcceptGuard | undefined> {
  if (options.secret === undefined && options.tls === undefined) return undefined;
  const secret = await loadSharedSecret(options.secret);
  const report = (pending: Pending, error: ProcwireError) => {
    pending.settled = true;
    options.onRefused?.(error, pending.peer);
  };

  /** The peer went away by itself during the handshake: nothing to report. */
  const abandon = (pending: Pending) => {
    pending.settled = true;
  };

  const finish = (pending: Pending, socket: Socket) => {
    pending.settled = true;
    pending.slot.release();
    deliver(socket);
  };

  const checkSecret = async (pending: Pending, socket: Socket) => {
    if (!secret) return finish(pending, socket);
    const refusal = await answerSecret(socket, secret, pending.slot.signal);
    if (refusal === undefined) return finish(pending, socket);
    if (refusal === 'aborted') return; // the gate's abort handler closed and reported it
    if (refusal === 'closed') {
      socket.destroy();
      return abandon(pending);
    }
    // Ended rather than destroyed, so the server's hello still reaches a
    // secret-less procwire client (it says "requires a shared secret"); the
    // slot stays taken until the socket is closed, and the deadline still
    // applies to a peer that does not read.
    socket.end();
    socket.once('finish', () => socket.destroy());
    report(pending, new ProcwireError(ErrorCode.ACCESS_DENIED, `${pending.peer.address} failed the shared-secret exchange (${refusal})`));
  };

  /** The gate, for every raw connection, before TLS or the secret reads a byte. */
  const admit = (raw: Socket): Pending | undefined => {
    const peer: PeerInfo = { transport: 'tcp', address: `tcp://${raw.remoteAddress}:${raw.remotePort}` };
    let pending: Pending | undefined;
    const slot = admitHandshake(gate, peer, options, () => {
      raw.destroy();
      // A connection already refused (and reported) for its secret may still reach the deadline.
      const unreported = pending !== undefined && !pending.settled;
      if (pending) pending.settled = true;
      return unreported;
    });
    if (!slot) return undefined;
    raw.setNoDelay(true);
    const admitted: Pending = { raw, slot, peer, settled: false };
    pending = admitted;
    raw.once('close', () => {
      slot.release();
      // node:tls reports why a handshake failed just after the raw socket closed: give it that moment.
      if (!admitted.settled) setImmediate(() => abandon(admitted));
    });
    return admitted;
  };

  let server: NetServer;
  if (options.tls === undefined) {
    server = createNetServer({ noDelay: true });
    server.on('connection', (raw: Socket) => {
      const pending = admit(raw);
      if (pending) void checkSecret(pending, raw);
    });
  } else {
    server = createTlsTcpServer(options.tls, gate.timeoutMs);
    const handshaking = new WeakMap<Socket, Pending>();
    // Prepended: the gate must see the raw socket before node:tls starts on it.
    server.prependListener('connection', (raw: Socket) => {
      const pending = admit(raw);
      if (pending) handshaking.set(raw, pending);
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      const pending = handshaking.get(rawSocketOf(socket));
      if (!pending || pending.settled) return void socket.destroy();
      void checkSecret(pending, socket);
    });
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      socket.destroy();
      const pending = handshaking.get(rawSocketOf(socket));
      if (!pending || pending.settled) return;
      pending.slot.release();
      const code = (error as NodeJS.ErrnoException).code;
      // node:tls refuses a client certificate by closing (ECONNRESET here); the reason is in authorizationError.
      if (!socket.authorizationError && code === 'ECONNRESET') return abandon(pending);
      if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
        return report(
          pending,
          new ProcwireError(ErrorCode.TIMEOUT, `${pending.peer.address}: the TLS handshake did not finish in time; closed`),
        );
      }
      const why = socket.authorizationError ? `its certificate was refused (${String(socket.authorizationError)})` : tlsReason(error);
      report(
        pending,
        new ProcwireError(ErrorCode.ACCESS_DENIED, `${pending.peer.address} failed the TLS handshake: ${why}`, { cause: error }),
      );
    });
  }

  return { server, close: () => gate.close() };
}

/**
 * The plain socket under a server-side TLS socket. node:tls keeps it as
 * `_parent` (not a public field, but there since the TLS rewrite of 0.11);
 * it is the only link from a TLS socket whose handshake failed, whose
 * address is gone by then, to the connection the gate admitted.
 */
function rawSocketOf(socket: TLSSocket): Socket {
  const parent = (socket as unknown as { _parent?: unknown })._parent;
  return parent instanceof Object ? (parent as Socket) : socket;
}

function tlsReason(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1] ?? error.message;
  return code ? `${reason} (${code})` : reason;
}
