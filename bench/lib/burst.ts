import { setImmediate as nextTurn } from 'node:timers/promises';
import { makeBlob, makePayload, type BinaryMessage, type Payload } from './payload.js';

/** Bytes of payload sent between two turns of the event loop. */
const BATCH_BYTES = 64 * 1024;

/**
 * How every server sends a throughput burst, whatever the library: as fast
 * as the sender can, without waiting for the receiver, yielding to the event
 * loop every ~64 KiB of payload so the process can actually write (and a
 * library that coalesces per tick gets its ticks). No case waits for
 * 'drain': not every library exposes backpressure (procwire's
 * Server.emit does not), so none uses it and all are treated alike.
 * `send` must serialise synchronously (all libraries measured do).
 */
export function sendBurst(count: number, size: number, send: (payload: Payload) => void): Promise<void> {
  return sendMessages(count, size, makePayload(size), send);
}

/** The same for binary messages (a 1 MiB one gets a turn of the event loop to itself). */
export function sendBlobBurst(count: number, size: number, send: (blob: BinaryMessage) => void): Promise<void> {
  return sendMessages(count, size, makeBlob(size), send);
}

async function sendMessages<M extends { i: number }>(count: number, size: number, message: M, send: (message: M) => void): Promise<void> {
  const batch = Math.max(1, Math.floor(BATCH_BYTES / size));
  for (let i = 0; i < count; i++) {
    message.i = i;
    send(message);
    if ((i + 1) % batch === 0) await nextTurn();
  }
}
