/**
 * Each transport states once, in the registry, where it works; the
 * conformance suite, serve() and connect() all take availability from there.
 */
import { afterEach, expect, it } from 'vitest';
import { availableSchemes } from 'procwire';

const realPlatform = process.platform;
afterEach(() => Object.defineProperty(process, 'platform', { value: realPlatform }));

it.each([
  ['linux', ['unix', 'tcp', 'socketpair', 'pipe', 'fifo', 'mq', 'shm']],
  ['darwin', ['unix', 'tcp', 'socketpair', 'pipe', 'fifo']],
  // Node's stdio 'pipe' is a named pipe on Windows, not a socketpair: no inherited transport there.
  ['win32', ['tcp', 'shm', 'npipe', 'mailslot']],
] as const)('on %s the registry offers exactly the transports that work there', (platform, schemes) => {
  Object.defineProperty(process, 'platform', { value: platform });
  expect(availableSchemes()).toEqual(schemes);
});
