/**
 * How birpc is carried in this benchmark. birpc is transport-agnostic (it
 * asks for `post` and `on`), so a choice has to be made. Both common ones are
 * measured, each framed with the same 4-byte length prefix as the raw floor
 * on a Unix socket:
 * - 'msgpackr': msgpackr's default `pack`/`unpack`, exactly the floor's
 *   serialisation, so what birpc adds over the floor is its own work (nanoid
 *   ids, a timer per call, async dispatch). This is birpc at its fastest.
 * - 'json': JSON.stringify/JSON.parse of UTF-8 text, the way birpc is
 *   usually wired up (its README's examples use JSON).
 */
import type { Socket } from 'node:net';
import type { ChannelOptions } from 'birpc';
import { pack, unpack } from 'msgpackr';
import { frame, FrameReader } from './lengthPrefix.js';

/** Functions the server exposes to the client. */
export interface BirpcServerFunctions {
  echo(payload: unknown): unknown;
  burst(count: number, size: number): number;
}

/** Functions the client exposes to the server (the one-way message). */
export interface BirpcClientFunctions {
  tick(payload: unknown): void;
}

export type BirpcCodec = 'msgpackr' | 'json';

/** birpc channel options over one socket. */
export function birpcOverSocket(socket: Socket, codec: BirpcCodec): ChannelOptions {
  let deliver: ((data: unknown) => void) | undefined;
  const reader = new FrameReader((body) => deliver?.(body));
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => {});
  return {
    post: (data: Uint8Array) => {
      socket.write(frame(data));
    },
    on: (fn) => {
      deliver = fn;
    },
    ...(codec === 'msgpackr'
      ? { serialize: (value: unknown) => pack(value), deserialize: (body: Buffer) => unpack(body) }
      : {
          serialize: (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8'),
          deserialize: (body: Buffer) => JSON.parse(body.toString('utf8')) as unknown,
        }),
  };
}
