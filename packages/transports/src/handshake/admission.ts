import { ErrorCode, ProcwireError, type PeerInfo } from '@procwire/core';
import type { HandshakeGate, HandshakeSlot } from './gate.js';
import type { ListenOptions } from '../transport.js';

/**
 * Puts one incoming connection attempt of a listener through its
 * HandshakeGate (fifo:, mq:, shm:, and tcp: with a secret or TLS). `drop`
 * tears down whatever the attempt holds (descriptors, names); it runs at
 * once when the gate is full (reported as TOO_MANY_CONNECTIONS) and when the
 * deadline passes (reported as TIMEOUT, unless `drop` returns false: the
 * attempt was already refused and reported for another reason) or the
 * listener closes (not reported: nobody was refused).
 *
 * The caller releases the slot when the connection is handed to core or
 * fails by itself; a released slot never fires.
 */
export function admitHandshake(
  gate: HandshakeGate,
  peer: PeerInfo,
  options: Pick<ListenOptions, 'onRefused'>,
  drop: () => unknown,
): HandshakeSlot | undefined {
  const slot = gate.enter();
  if (!slot) {
    drop();
    options.onRefused?.(
      new ProcwireError(
        ErrorCode.TOO_MANY_CONNECTIONS,
        `${gate.maxHandshakes} connections are in their transport handshake already; ${peer.address} closed`,
      ),
      peer,
    );
    return undefined;
  }
  slot.signal.addEventListener(
    'abort',
    () => {
      slot.release();
      const unreported = drop() !== false;
      const reason = slot.signal.reason as unknown;
      if (unreported && reason instanceof ProcwireError && reason.code === ErrorCode.TIMEOUT) {
        options.onRefused?.(new ProcwireError(ErrorCode.TIMEOUT, `${peer.address}: ${reason.message}; closed`), peer);
      }
    },
    { once: true },
  );
  return slot;
}
