import { ErrorCode, ProcwireError } from '@procwire/core';
import { invalidEndpoint, parseEndpoint, type Endpoint } from './endpoint.js';
import type { Inherited, Transport } from './transport.js';
import { fifoTransport } from './fifo/index.js';
import { mailslotTransport } from './mailslot/index.js';
import { mqueueTransport } from './mq/index.js';
import { npipeTransport } from './npipe/index.js';
import { pipeTransport } from './pipe/index.js';
import { shmTransport } from './shm/index.js';
import { socketPairTransport } from './socketpair/index.js';
import { tcpTransport } from './tcp/index.js';
import { unixTransport } from './unix/index.js';

const transports = new Map<string, Transport>();

/** Makes a transport available under its scheme (later transports join here). */
export function registerTransport(transport: Transport): void {
  transports.set(transport.scheme, transport);
}

for (const transport of [
  unixTransport,
  tcpTransport,
  socketPairTransport,
  pipeTransport,
  fifoTransport,
  mqueueTransport,
  shmTransport,
  npipeTransport,
  mailslotTransport,
])
  registerTransport(transport);

/** The transport registered for `scheme`, wherever it runs; undefined when none is. */
export function registeredTransport(scheme: string): Transport | undefined {
  return transports.get(scheme);
}

/** The spawn-only transports (their schemes with the colon, as spawn's `via` names them). */
export function inheritedTransports(): Map<string, Inherited> {
  const found = new Map<string, Inherited>();
  for (const transport of transports.values()) {
    if (transport.inherited) found.set(`${transport.scheme}:`, transport.inherited);
  }
  return found;
}

/** Schemes this process can use on this platform. */
export function availableSchemes(): string[] {
  return [...transports.values()].filter((t) => t.platforms === undefined || t.platforms.includes(process.platform)).map((t) => t.scheme);
}

export function resolveEndpoint(url: unknown): { endpoint: Endpoint; transport: Transport } {
  const endpoint = parseEndpoint(url);
  const transport = transports.get(endpoint.scheme);
  if (!transport) {
    throw invalidEndpoint(
      endpoint.url,
      `unknown transport "${endpoint.scheme}:" (known: ${[...transports.keys()].map((s) => `${s}:`).join(', ')})`,
    );
  }
  if (transport.platforms && !transport.platforms.includes(process.platform)) {
    throw new ProcwireError(ErrorCode.UNSUPPORTED, `${endpoint.scheme}: is not available on ${process.platform}`);
  }
  return { endpoint, transport };
}
