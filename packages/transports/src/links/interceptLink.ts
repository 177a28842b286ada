import type { Link, LinkEvents } from '@procwire/core';

/**
 * A link that is `inner` in every way except that the events it reports go
 * through `intercept` first (to add detail to a close, or to watch traffic).
 * Events the interceptor does not override pass through unchanged.
 */
export function interceptLink(inner: Link, intercept: (events: LinkEvents) => Partial<LinkEvents>): Link {
  return {
    capabilities: inner.capabilities,
    peer: inner.peer,
    get closed() {
      return inner.closed;
    },
    get bufferedBytes() {
      return inner.bufferedBytes;
    },
    send: (frame) => inner.send(frame),
    close: () => inner.close(),
    destroy: (error) => inner.destroy(error),
    start(events) {
      inner.start({ ...events, ...intercept(events) });
    },
  };
}
