export { serve, connect, DEFAULT_SHUTDOWN_GRACE_MS, type ServeOptions, type ConnectOptions } from './serve.js';
export { spawn, type SpawnOptions, type Worker } from './spawn.js';
export { type ReconnectOptions } from './reconnect.js';
export { availableSchemes, registerTransport, resolveEndpoint } from './registry.js';
export { parseEndpoint, type Endpoint } from './endpoint.js';
export type {
  Transport,
  ListenOptions,
  TransportConnectOptions,
  AccessMode,
  SharedSecret,
  TlsServerOptions,
  TlsClientOptions,
} from './transport.js';
export { unixTransport } from './unix/index.js';
export { tcpTransport } from './tcp/index.js';
export { socketPairTransport, SOCKETPAIR_FD_ENV } from './socketpair/index.js';
export { pipeTransport, PIPE_FDS_ENV } from './pipe/index.js';
export { fifoTransport } from './fifo/index.js';
export { mqueueTransport } from './mq/index.js';
export { shmTransport } from './shm/index.js';
export { npipeTransport } from './npipe/index.js';
export { mailslotTransport } from './mailslot/index.js';
export { listNamedObjects, removeStaleObjects, type NamedObject } from './namedObjects.js';
