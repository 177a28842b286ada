import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { ownUid } from '../names/ownedNames.js';
import type { SharedSecret } from '../transport.js';

/** Shorter secrets are refused: 16 bytes of real randomness is the least an HMAC key should carry. */
const MIN_SECRET_BYTES = 16;
/** A secret file larger than this is surely the wrong file. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

function refuse(why: string): ProcwireError {
  return new ProcwireError(ErrorCode.INVALID_ARGUMENT, `secret: ${why}`);
}

/**
 * The bytes of a shared secret, from wherever the option says. A file must be
 * a regular file of this process's uid that neither its group nor others can
 * read or write (what `chmod 600` gives); a secret anyone else can read is no
 * secret. One trailing newline is dropped from a file or variable, so
 * `echo "$SECRET" > file` and `SECRET=...` agree with the same value given
 * in code.
 */
export async function loadSharedSecret(source: SharedSecret | undefined): Promise<Buffer | undefined> {
  if (source === undefined) return undefined;
  if (source === null || typeof source !== 'object') throw refuse('expected { file }, { env } or { value }');
  const kinds = (['file', 'env', 'value'] as const).filter((kind) => kind in source);
  if (kinds.length !== 1) throw refuse(`give exactly one of file, env or value (got ${kinds.length === 0 ? 'none' : kinds.join(', ')})`);
  let bytes: Buffer;
  let origin: string;
  if ('file' in source) {
    origin = `file ${source.file}`;
    bytes = withoutFinalNewline(await readSecretFile(source.file));
  } else if ('env' in source) {
    if (typeof source.env !== 'string' || source.env === '') throw refuse('env must name an environment variable');
    origin = `environment variable ${source.env}`;
    const text = process.env[source.env];
    if (text === undefined) throw refuse(`the environment variable ${source.env} is not set`);
    bytes = withoutFinalNewline(Buffer.from(text, 'utf8'));
  } else {
    origin = 'value';
    const value: unknown = source.value;
    if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
    else if (value instanceof Uint8Array) bytes = Buffer.from(value);
    else throw refuse('value must be a string or a Uint8Array');
  }
  if (bytes.length === 0) throw refuse(`the ${origin} is empty`);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw refuse(
      `the ${origin} holds ${bytes.length} bytes; a shared secret needs at least ${MIN_SECRET_BYTES} (e.g. openssl rand -hex 32)`,
    );
  }
  return bytes;
}

function withoutFinalNewline(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}

/**
 * Opens first and checks the open file (fstat), so what is checked is what is
 * read. O_NONBLOCK keeps a FIFO put in the file's place from hanging the open.
 */
async function readSecretFile(path: unknown): Promise<Buffer> {
  if (typeof path !== 'string' || path === '') throw refuse('file must be a path');
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  } catch (error) {
    throw refuse(`cannot open the secret file ${path}: ${(error as Error).message}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refuse(`${path} is not a regular file`);
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    const uid = ownUid();
    if (uid !== undefined && info.uid !== uid) {
      throw refuse(`the secret file ${path} (mode ${mode}) belongs to uid ${info.uid}, not to this process's uid ${uid}; refusing it`);
    }
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw refuse(
        `the secret file ${path} has mode ${mode}: its group or others may use it; make it readable by its owner only (chmod 600 ${path})`,
      );
    }
    if (info.size > MAX_SECRET_FILE_BYTES) throw refuse(`the secret file ${path} holds ${info.size} bytes; is it the right file?`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
