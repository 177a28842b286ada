// Run by .ci/wine/run-node.sh in the official node.exe under Wine: Node's
// `net` serves and connects a Windows named pipe (\\.\pipe\...), the carrier
// of the Windows transports, with no addon involved. A request and its
// answer cross in both directions, then both ends see the other close.
//
// Node's named pipes have no half-close on Windows (a byte-mode pipe has no
// end-of-stream marker): once the client calls end(), the server's reply
// fails with EPIPE. So the request carries its length instead.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';

assert.equal(process.platform, 'win32');
// Tests never share an OS name: a leftover or parallel run cannot collide.
const path = `\\\\.\\pipe\\procwire-test-${process.pid}-${randomBytes(4).toString('hex')}`;
const deadline = setTimeout(() => {
  console.error(`pipe: no answer within 20 s on ${path}`);
  process.exit(1);
}, 20_000);

/**
 * Resolves with what `socket` has received once `complete(received)` holds
 * (a large write arrives in several chunks).
 */
function receive(socket, complete) {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (!complete(received)) return;
      socket.off('data', onData).off('error', reject);
      resolve(received);
    };
    socket.on('data', onData).on('error', reject);
  });
}

/** A request: its length (uint32 LE), then its bytes. */
const requestComplete = (received) => received.length >= 4 && received.length >= 4 + received.readUInt32LE(0);

const serverSide = new Promise((resolve, reject) => {
  const server = net.createServer(async (socket) => {
    try {
      const request = await receive(socket, requestComplete);
      assert.equal(request.length, 4 + request.readUInt32LE(0), 'the client sent more than one request');
      socket.write(Buffer.concat([Buffer.from('echo:'), request.subarray(4)]));
      socket.on('end', () => socket.end());
      await once(socket, 'close');
      server.close(resolve);
    } catch (error) {
      reject(error);
    }
  });
  server.on('error', reject);
  server.listen(path);
});

// The server's listen() is queued first: connect() only runs after it.
await new Promise((resolve) => setImmediate(resolve));
const client = net.connect(path);
await once(client, 'connect');
const payload = randomBytes(256 * 1024);
const header = Buffer.alloc(4);
header.writeUInt32LE(payload.length, 0);
client.write(Buffer.concat([header, payload]));
const expected = Buffer.concat([Buffer.from('echo:'), payload]);
const answer = await receive(client, (received) => received.length >= expected.length);
assert.ok(answer.equals(expected), 'the answer differs from the request');
client.end();
await once(client, 'close');
await serverSide;

clearTimeout(deadline);
console.log(`pipe: Node ${process.version} served and connected ${path}`);
console.log(`pipe: ${payload.length} bytes there and back, both ends closed`);
