import type { Link, LinkAcceptor } from '@procwire/core';
import { bindToParent } from './parentDeath.js';

/**
 * The worker's side of a link its parent made (socketpair:, pipe:): exactly
 * one connection, after which the acceptor ends, so the server closes when
 * that link does. The worker is also bound to its parent's life.
 *
 * `makeLink` wraps the inherited descriptors; `discard` releases them when
 * the server is closed before it started.
 */
export function inheritedLinkAcceptor(url: string, makeLink: () => Link, discard: () => void): LinkAcceptor {
  bindToParent();
  let started = false;
  return {
    url,
    start(onLink, onEnd) {
      if (started) return;
      started = true;
      onLink(makeLink());
      onEnd?.();
    },
    async close() {
      if (!started) discard();
    },
  };
}
