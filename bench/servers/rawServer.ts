/**
 * Raw floor server: `rawServer.ts unix <path> | tcp | socketpair`. Echoes
 * each length-prefixed msgpackr message (decode, re-encode, one write) and
 * answers a burst request (of string or binary messages) with one write()
 * per message.
 */
import { createServer, Socket } from 'node:net';
import { pack, unpack } from 'msgpackr';
import { sendBlobBurst, sendBurst } from '../lib/burst.js';
import { exitWithParent } from '../lib/children.js';
import { frame, FrameReader } from '../lib/lengthPrefix.js';
import { isBurstRequest } from '../lib/payload.js';

exitWithParent();
const [mode, path] = process.argv.slice(2);

function serveSocket(socket: Socket): void {
  const reader = new FrameReader((body) => {
    const message = unpack(body);
    if (isBurstRequest(message)) {
      const send = (m: unknown) => socket.write(frame(pack(m)));
      void (message.blob ? sendBlobBurst(message.count, message.size, send) : sendBurst(message.count, message.size, send));
    } else {
      socket.write(frame(pack(message)));
    }
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => {});
}

if (mode === 'socketpair') {
  const socket = new Socket({ fd: 3, readable: true, writable: true });
  serveSocket(socket);
  socket.on('close', () => process.exit(0));
  process.stdout.write('ready socketpair\n');
} else {
  const server = createServer((socket) => {
    if (mode === 'tcp') socket.setNoDelay(true);
    serveSocket(socket);
  });
  if (mode === 'unix') {
    server.listen(path!, () => process.stdout.write(`ready ${path}\n`));
  } else {
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : ''}\n`);
    });
  }
}
