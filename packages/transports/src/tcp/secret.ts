/**
 * The shared-secret exchange of `tcp:` (docs/PROTOCOL.md section 14): both
 * sides prove they know the secret without sending it, before the link
 * exists. Each side sends a hello (magic, version, 32 random bytes) as soon
 * as the connection is up; the client then sends its proof; the server
 * checks it and answers with its own proof, or hangs up.
 *
 *   hello  = C1 'p' 'w' ('c' | 's') 01  nonce[32]              37 bytes
 *   proof  = HMAC-SHA256(secret, label ‖ clientHello ‖ serverHello)   32 bytes
 *
 * The first byte 0xC1 is never valid MessagePack, so a procwire peer that
 * expects no secret fails at the first byte instead of waiting.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { HandshakeEnded, HandshakeMismatch, HandshakeReader } from '../handshake/reader.js';

const SECRET_VERSION = 1;
const CLIENT_MAGIC = Buffer.from([0xc1, 0x70, 0x77, 0x63]); // \xC1 p w c
const SERVER_MAGIC = Buffer.from([0xc1, 0x70, 0x77, 0x73]); // \xC1 p w s
const NONCE_BYTES = 32;
const HELLO_BYTES = CLIENT_MAGIC.length + 1 + NONCE_BYTES;
const PROOF_BYTES = 32;
const CLIENT_LABEL = Buffer.from('procwire-secret-1 client', 'latin1');
const SERVER_LABEL = Buffer.from('procwire-secret-1 server', 'latin1');

function secretHello(magic: Buffer, nonce: Buffer = randomBytes(NONCE_BYTES)): Buffer {
  return Buffer.concat([magic, Buffer.of(SECRET_VERSION), nonce]);
}

function secretProof(side: 'client' | 'server', secret: Buffer, clientHello: Buffer, serverHello: Buffer): Buffer {
  return createHmac('sha256', secret)
    .update(side === 'client' ? CLIENT_LABEL : SERVER_LABEL)
    .update(clientHello)
    .update(serverHello)
    .digest();
}

/** Whether `bytes` can still be the start of a hello with `magic` (any version: the reader of the fifth byte says more). */
function beginsHello(magic: Buffer): (bytes: Buffer) => boolean {
  return (bytes) => magic.subarray(0, Math.min(bytes.length, magic.length)).equals(bytes.subarray(0, magic.length));
}

function sameProof(expected: Buffer, received: Buffer): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/** Why a server-side exchange failed; the transport closes the connection either way. */
export type SecretRefusal = 'wrong proof' | 'not a procwire secret hello' | 'unsupported version' | 'closed' | 'aborted';

/**
 * The server's side. Resolves undefined when the client proved the secret
 * (the server's proof is on its way and the socket is ready for the link),
 * or the reason it failed. Never sends anything that depends on the secret
 * before the client has proved it.
 */
export async function answerSecret(socket: Duplex, secret: Buffer, signal: AbortSignal): Promise<SecretRefusal | undefined> {
  const serverHello = secretHello(SERVER_MAGIC);
  const reader = new HandshakeReader(socket, signal);
  try {
    socket.write(serverHello);
    const clientHello = await reader.read(HELLO_BYTES, beginsHello(CLIENT_MAGIC));
    if (clientHello[CLIENT_MAGIC.length] !== SECRET_VERSION) return 'unsupported version';
    const proof = await reader.read(PROOF_BYTES);
    if (!sameProof(secretProof('client', secret, clientHello, serverHello), proof)) return 'wrong proof';
    socket.write(secretProof('server', secret, clientHello, serverHello));
    return undefined;
  } catch (error) {
    if (error instanceof HandshakeMismatch) return 'not a procwire secret hello';
    if (signal.aborted) return 'aborted';
    return 'closed';
  } finally {
    reader.release();
  }
}

export interface ProveOptions {
  /** Turns a socket error into a clearer one (TLS alerts). */
  readonly translate?: (error: Error) => Error;
  /** What a close before the server's hello most likely means (said instead of the plain-tcp guess). */
  readonly closedEarly?: string;
}

/**
 * The client's side: resolves once both sides have proved the secret, or
 * rejects with ACCESS_DENIED (refused, or the server does not know the
 * secret), PROTOCOL (the endpoint speaks something else), TIMEOUT (signal),
 * or the socket's own error (`translate` may turn it into a clearer one).
 */
export async function proveSecret(
  socket: Duplex,
  secret: Buffer,
  where: string,
  signal: AbortSignal,
  options: ProveOptions = {},
): Promise<void> {
  const clientHello = secretHello(CLIENT_MAGIC);
  const reader = new HandshakeReader(socket, signal);
  let stage: 'hello' | 'proof' = 'hello';
  try {
    socket.write(clientHello);
    const serverHello = await reader.read(HELLO_BYTES, beginsHello(SERVER_MAGIC));
    const version = serverHello[SERVER_MAGIC.length];
    if (version !== SECRET_VERSION) {
      throw new ProcwireError(
        ErrorCode.PROTOCOL,
        `${where} uses shared-secret exchange version ${version}; this client speaks ${SECRET_VERSION}`,
      );
    }
    socket.write(secretProof('client', secret, clientHello, serverHello));
    stage = 'proof';
    const proof = await reader.read(PROOF_BYTES);
    if (!sameProof(secretProof('server', secret, clientHello, serverHello), proof)) {
      throw new ProcwireError(ErrorCode.ACCESS_DENIED, `${where} does not know the shared secret (its proof is wrong); not talking to it`);
    }
  } catch (error) {
    throw clientFailure(error, where, stage, signal, options);
  } finally {
    reader.release();
  }
}

function clientFailure(error: unknown, where: string, stage: 'hello' | 'proof', signal: AbortSignal, options: ProveOptions): Error {
  if (error instanceof ProcwireError) return error;
  if (signal.aborted) return signal.reason as Error;
  if (error instanceof HandshakeMismatch) {
    return new ProcwireError(
      ErrorCode.PROTOCOL,
      `${where} did not answer the shared-secret exchange (it sent ${error.bytes.subarray(0, 8).toString('hex')}...); does it use a secret, or TLS?`,
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (error instanceof HandshakeEnded || code === 'ECONNRESET' || code === 'EPIPE') {
    if (stage === 'proof') {
      return new ProcwireError(ErrorCode.ACCESS_DENIED, `${where} refused the shared secret (it closed the connection after our proof)`);
    }
    const guess = options.closedEarly ?? 'it serves without a secret, or it refused the connection (too many handshakes at once)';
    return new ProcwireError(ErrorCode.ACCESS_DENIED, `${where} closed the connection before the shared-secret exchange: ${guess}`);
  }
  return options.translate ? options.translate(error as Error) : (error as Error);
}

/** Whether the first bytes a plain (secret-less) tcp client received are a secret server's hello. */
export function isSecretServerHello(bytes: Buffer): boolean {
  return bytes.length > 0 && beginsHello(SERVER_MAGIC)(bytes);
}
