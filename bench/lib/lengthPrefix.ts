/**
 * The framing the framework-less baselines use on a byte stream: a 4-byte
 * big-endian length, then the body. This is the cheapest delimiting there
 * is, which is why the raw floor uses it (procwire instead walks the
 * MessagePack structure, because msgpack-rpc has no length prefix).
 */

/** Prefixes `body` with its length, in one buffer so one write() sends one message. */
export function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/** Cuts a byte stream back into bodies; keeps a partial frame across chunks. */
export class FrameReader {
  private pending: Buffer | undefined;

  constructor(private readonly onBody: (body: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (buf.length - at >= 4) {
      const len = buf.readUInt32BE(at);
      if (buf.length - at - 4 < len) break;
      this.onBody(buf.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (at < buf.length) this.pending = buf.subarray(at);
  }
}
