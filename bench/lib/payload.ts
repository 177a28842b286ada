/**
 * The message every case sends: a small object with a sequence number and a
 * string of exactly `size` ASCII bytes. A string (not a Buffer) keeps the
 * JSON-based peers (node-ipc, process.send 'json') honest: a Buffer would
 * turn into a JSON array of numbers there and make them look worse than
 * they are for ordinary data.
 */
export interface Payload {
  i: number;
  s: string;
}

/** The payload sizes the issue asks for: 64 B and 4 KiB. */
export const SIZES = [64, 4096] as const;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function makePayload(size: number): Payload {
  let s = '';
  for (let k = 0; k < size; k++) s += ALPHABET[k % ALPHABET.length];
  return { i: 0, s };
}

/**
 * The large-payload message: binary data, as a user would send an image or
 * a tensor. msgpack carries it as `bin` and decodes it to a Buffer (a
 * Uint8Array); only msgpack-based cases measure it (JSON would turn it into
 * an array of numbers).
 */
export interface BinaryMessage {
  i: number;
  /** Backed by a plain ArrayBuffer, as `z.instanceof(Uint8Array)` infers it. */
  b: Uint8Array<ArrayBuffer>;
}

/** Size of the binary payload of the GB/s measurement: 1 MiB. */
export const BLOB_SIZE = 1024 * 1024;

export function makeBlob(size: number): BinaryMessage {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = k & 0xff;
  return { i: 0, b };
}

/** A request to the server for `count` one-way messages of `size` bytes (`blob`: BinaryMessage instead of Payload). */
export interface BurstRequest {
  count: number;
  size: number;
  blob?: boolean;
}

export function isBurstRequest(value: unknown): value is BurstRequest {
  return typeof value === 'object' && value !== null && typeof (value as BurstRequest).count === 'number' && !('s' in value);
}
