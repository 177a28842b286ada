/**
 * Connect errors that waiting for the server cannot cure: a limit of this
 * process or user (descriptors, message-queue memory) is reached. connect's
 * `waitMs` retries a server that is not there yet or busy, never these.
 */
const permanent = new WeakSet<object>();

export function markPermanent<E extends Error>(error: E): E {
  permanent.add(error);
  return error;
}

export function isPermanent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && permanent.has(error);
}
