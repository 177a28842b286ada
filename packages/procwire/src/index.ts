/**
 * procwire: typed RPC, events and streams between processes. This package
 * re-exports @procwire/core (contracts, errors, the wire protocol) and
 * @procwire/transports (serve, connect and spawn over endpoint URLs).
 */
export * from '@procwire/core';
export * from '@procwire/transports';
