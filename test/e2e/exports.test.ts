/**
 * The public surface of each package, spelled out: adding or removing an
 * export is a deliberate change that must show up here.
 */
import { expect, it } from 'vitest';
import * as core from '@procwire/core';
import * as sync from '@procwire/sync';
import * as transports from '@procwire/transports';
import * as procwire from 'procwire';

const CORE = [
  'ACCEPTED_EXTENSION_TYPES', 'DEFAULT_CALL_TIMEOUT_MS', 'DEFAULT_FRAME_LIMITS', 'DEFAULT_HANDSHAKE_TIMEOUT_MS',
  'DEFAULT_MAX_CONNECTIONS', 'DEFAULT_MAX_CONNECTIONS_PER_UID', 'DEFAULT_MAX_DEPTH', 'DEFAULT_MAX_ELEMENTS',
  'DEFAULT_MAX_FRAME_BYTES', 'DEFAULT_MAX_PENDING_CALLS', 'DEFAULT_MAX_SEND_QUEUE_BYTES', 'DEFAULT_STREAM_WINDOW', 'ErrorCode',
  'FrameDelimiter', 'GENERIC_HANDLER_ERROR_MESSAGE', 'HARD_MAX_FRAME_BYTES', 'MAX_MSGID', 'MessageType', 'PROTOCOL_VERSION', 'ProcwireError',
  'checkCallback', 'checkFlag', 'checkFrame', 'checkTimeout', 'createClient', 'createServer', 'createStreamLink', 'decode',
  'defineChannel', 'encode', 'isChannel', 'resolveClientOptions', 'resolveFrameLimits',
];
const TRANSPORTS = [
  'DEFAULT_SHUTDOWN_GRACE_MS', 'PIPE_FDS_ENV', 'SOCKETPAIR_FD_ENV', 'availableSchemes', 'connect',
  'fifoTransport', 'listNamedObjects', 'mqueueTransport', 'parseEndpoint', 'pipeTransport', 'registerTransport',
  'removeStaleObjects', 'resolveEndpoint', 'serve', 'socketPairTransport', 'spawn', 'tcpTransport',
  'unixTransport',
];
const SYNC = ['SEMAPHORE_RECOVERY_MS', 'openSemaphore', 'removeSemaphore'];

it('each package exports exactly its documented surface', () => {
  expect(Object.keys(core).sort()).toEqual(CORE);
  expect(Object.keys(transports).sort()).toEqual(TRANSPORTS);
  expect(Object.keys(sync).sort()).toEqual(SYNC);
  expect(Object.keys(procwire).sort()).toEqual([...CORE, ...TRANSPORTS, ...SYNC].sort());
});

it('the umbrella re-exports the same objects, not copies', () => {
  expect(procwire.ProcwireError).toBe(core.ProcwireError);
  expect(procwire.serve).toBe(transports.serve);
});
