/**
 * The part of node-ipc 9.2.1 the benchmark uses. The package ships no types
 * and @types/node-ipc is not a dependency, so this is declared here.
 */
declare module 'node-ipc' {
  import type { Socket } from 'node:net';

  interface IpcConfig {
    id: string;
    silent: boolean;
    retry: number;
    maxRetries: number;
    stopRetrying: boolean;
    [key: string]: unknown;
  }

  interface IpcServer {
    on(event: string, listener: (data: any, socket: Socket) => void): IpcServer;
    emit(socket: Socket, event: string, data: unknown): void;
    start(): void;
    stop(): void;
  }

  interface IpcClient {
    on(event: string, listener: (data: any) => void): IpcClient;
    emit(event: string, data: unknown): void;
    socket: Socket | false;
  }

  interface Ipc {
    config: IpcConfig;
    of: Record<string, IpcClient>;
    server: IpcServer;
    serve(path: string, callback?: () => void): void;
    connectTo(id: string, path: string, callback?: () => void): void;
    disconnect(id: string): void;
  }

  const ipc: Ipc;
  export default ipc;
}
