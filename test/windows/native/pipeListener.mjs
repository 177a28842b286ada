// PipeListener: an owner-only named pipe server whose connections Node
// wraps as ordinary sockets. Two clients (Node's net.connect) connect at
// once and exchange 256 KiB each way; closing the listener leaves existing
// connections alone; a second listener on the name is refused (except under
// Wine, which ignores FILE_FLAG_FIRST_PIPE_INSTANCE).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { native, run, uniqueName, until, wine } from './lib/support.mjs';

const { PipeListener } = native;

/** Resolves with what `socket` has received once `length` bytes have arrived. */
function receive(socket, length) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const onData = (chunk) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < length) return;
      socket.off('data', onData).off('error', reject);
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', onData).on('error', reject);
  });
}

/** A listener whose connections become sockets that answer each request with 'echo:' + request. */
function echoServer(name) {
  const sockets = [];
  const fds = [];
  const listener = new PipeListener(name, (fd) => {
    assert.ok(Number.isInteger(fd) && fd > 2, `fd ${fd}`);
    fds.push(fd);
    const socket = new net.Socket({ fd, readable: true, writable: true });
    sockets.push(socket);
    // A request is its length (uint32 LE), then its bytes: named pipes have no half-close.
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 4 || pending.length < 4 + pending.readUInt32LE(0)) return;
      socket.write(Buffer.concat([Buffer.from('echo:'), pending.subarray(4)]));
      pending = Buffer.alloc(0);
    });
    socket.on('error', () => {});
  });
  return { listener, sockets, fds };
}

async function exchange(client, payload) {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(payload.length, 0);
  const answer = receive(client, 5 + payload.length);
  client.write(Buffer.concat([header, payload]));
  const received = await answer;
  assert.ok(received.equals(Buffer.concat([Buffer.from('echo:'), payload])), 'the answer differs');
}

await run(import.meta.url, [
  [
    'two clients connect at once and exchange 256 KiB each way through sockets made from the descriptors',
    async () => {
      const name = uniqueName('pipe');
      const { listener, sockets, fds } = echoServer(name);
      assert.equal(listener.path, `\\\\.\\pipe\\${name}`);
      const clients = [net.connect(listener.path), net.connect(listener.path)];
      await Promise.all(clients.map((client) => once(client, 'connect')));
      await Promise.all(clients.map((client) => exchange(client, randomBytes(256 * 1024))));
      await until(() => sockets.length === 2, 5000, 'two server sockets');
      // The server side speaks first too: the sockets write as well as read.
      const greetings = clients.map((client) => receive(client, 5));
      sockets.forEach((socket) => socket.write('hello'));
      assert.deepEqual((await Promise.all(greetings)).map(String), ['hello', 'hello']);
      const closed = sockets.map((socket) => once(socket, 'close'));
      clients.forEach((client) => client.destroy());
      await Promise.all(closed);
      listener.close();
      return `node.exe descriptors ${fds.join(' and ')}`;
    },
  ],
  [
    'a client that closes is seen by the server socket; the server closing is seen by the client',
    async () => {
      const name = uniqueName('pipe');
      const { listener, sockets } = echoServer(name);
      const first = net.connect(listener.path);
      await once(first, 'connect');
      await until(() => sockets.length === 1, 5000, 'the server socket');
      const serverClosed = once(sockets[0], 'close');
      first.destroy();
      await serverClosed;
      const second = net.connect(listener.path);
      await once(second, 'connect');
      await until(() => sockets.length === 2, 5000, 'the second server socket');
      const clientClosed = once(second, 'close');
      sockets[1].destroy();
      await clientClosed;
      listener.close();
    },
  ],
  [
    'close() stops accepting; a connection already made keeps working; the name goes with the last instance',
    async () => {
      const name = uniqueName('pipe');
      const { listener, sockets } = echoServer(name);
      const client = net.connect(listener.path);
      await once(client, 'connect');
      await until(() => sockets.length === 1, 5000, 'the server socket');
      const started = performance.now();
      listener.close();
      const ms = performance.now() - started;
      listener.close();
      await exchange(client, Buffer.from('after close'));
      const closed = once(sockets[0], 'close');
      client.destroy();
      await closed;
      const late = net.connect(listener.path);
      const [error] = await once(late, 'error');
      assert.equal(error.code, 'ENOENT');
      return `close() took ${ms.toFixed(1)} ms; a new client then gets ${error.code}`;
    },
  ],
  [
    'a second listener on a name in use is refused with EADDRINUSE',
    async () => {
      const name = uniqueName('pipe');
      const { listener } = echoServer(name);
      try {
        let error;
        try {
          new PipeListener(name, () => {}).close();
        } catch (caught) {
          error = caught;
        }
        if (wine && !error) return { skip: `Wine ${wine} ignores FILE_FLAG_FIRST_PIPE_INSTANCE: the second listener was created` };
        assert.ok(error, 'the second listener was created');
        assert.equal(error.code, 'EADDRINUSE');
        assert.equal(error.errno, -4091);
        assert.equal(error.winError, native.constants.ERROR_ACCESS_DENIED);
        assert.equal(error.syscall, 'CreateNamedPipeW');
        return error.message;
      } finally {
        listener.close();
      }
    },
  ],
  [
    "a name Node's own server holds is refused too",
    async () => {
      const name = uniqueName('pipe');
      const server = net.createServer(() => {});
      await new Promise((resolve) => server.listen(`\\\\.\\pipe\\${name}`, resolve));
      try {
        let error;
        try {
          new PipeListener(name, () => {}).close();
        } catch (caught) {
          error = caught;
        }
        if (wine && !error) return { skip: `Wine ${wine} ignores FILE_FLAG_FIRST_PIPE_INSTANCE` };
        assert.ok(error, 'the listener was created');
        assert.equal(error.code, 'EADDRINUSE');
        return error.message;
      } finally {
        server.close();
      }
    },
  ],
  [
    'close() from inside onConnection: that connection is still handed over, no later one is',
    async () => {
      const name = uniqueName('pipe');
      const fds = [];
      const listener = new PipeListener(name, (fd) => {
        fds.push(fd);
        listener.close();
      });
      const client = net.connect(listener.path);
      await once(client, 'connect');
      await until(() => fds.length === 1, 5000, 'the connection');
      const socket = new net.Socket({ fd: fds[0], readable: true, writable: true });
      const greeting = receive(client, 2);
      socket.write('hi');
      assert.equal(String(await greeting), 'hi');
      socket.destroy();
      client.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(fds.length, 1);
    },
  ],
]);
