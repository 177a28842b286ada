export { serve, connect, DEFAULT_SHUTDOWN_GRACE_MS, type ServeOptions, type ConnectOptions } from './serve.js';
export { spawn, type SpawnOptions, type Worker } from './spawn.js';
export { availableSchemes, registerTransport, resolveEndpoint } from './registry.js';
export { parseEndpoint, type Endpoint } from './internal/endpoint.js';
export type { Transport, ListenOptions } from './internal/transport.js';
export { unixTransport, tcpTransport } from './socket.js';
export { socketPairTransport, SOCKETPAIR_FD_ENV } from './socketPair.js';
