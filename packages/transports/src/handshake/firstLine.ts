import type { Socket } from 'node:net';

/**
 * Calls `onLine` with the first line (up to and including its "\n") that
 * `socket` sends during a text handshake; a line longer than `maxBytes`
 * destroys the socket. Reading stops after the line.
 */
export function readFirstLine(socket: Socket, maxBytes: number, onLine: (line: string) => void): void {
  let line = '';
  const onData = (chunk: Buffer) => {
    line += chunk.toString('latin1');
    if (line.length > maxBytes) return socket.destroy();
    if (!line.endsWith('\n')) return;
    socket.off('data', onData);
    onLine(line);
  };
  socket.on('data', onData);
}
