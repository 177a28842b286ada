/**
 * procwire: typed RPC, events and streams between processes. This package
 * re-exports @procwire/core (contracts, errors, the wire protocol),
 * @procwire/transports (serve, connect and spawn over endpoint URLs) and
 * @procwire/sync (named semaphores).
 */
export * from '@procwire/core';
export * from '@procwire/transports';
export * from '@procwire/sync';
