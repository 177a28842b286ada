/**
 * node-ipc 9.2.1 server: `nodeIpcServer.ts <socket path>`. Echoes 'echo'
 * events to the sender; answers 'burst' with one emit per 'tick'.
 */
import ipc from 'node-ipc';
import { sendBurst } from '../lib/burst.js';
import { exitWithParent } from '../lib/children.js';

exitWithParent();
const path = process.argv[2]!;
ipc.config.silent = true;
ipc.config.id = 'bench';
ipc.serve(path, () => {
  ipc.server.on('echo', (data, socket) => ipc.server.emit(socket, 'echo', data));
  ipc.server.on('burst', (request: { count: number; size: number }, socket) => {
    void sendBurst(request.count, request.size, (payload) => ipc.server.emit(socket, 'tick', payload));
  });
  process.stdout.write(`ready ${path}\n`);
});
ipc.server.start();
