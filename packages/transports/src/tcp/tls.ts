/**
 * TLS for `tcp:`. The server is a node:tls server (with `ca`, clients must
 * present a certificate that authority signed); the client always verifies
 * the server's certificate, against `ca` or Node's bundled roots, and the
 * name in it against `servername` or the URL's host.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import {
  checkServerIdentity,
  connect as tlsConnect,
  createSecureContext,
  createServer as createTlsServer,
  type ConnectionOptions,
  type SecureContext,
  type Server as TlsServer,
  type TLSSocket,
} from 'node:tls';
import { ErrorCode, ProcwireError } from '@procwire/core';
import type { TlsClientOptions, TlsServerOptions } from '../transport.js';

function refuse(why: string, cause?: unknown): ProcwireError {
  return new ProcwireError(ErrorCode.INVALID_ARGUMENT, `tls: ${why}`, cause === undefined ? undefined : { cause });
}

function isPem(value: unknown): value is string | Buffer {
  return (typeof value === 'string' && value !== '') || (Buffer.isBuffer(value) && value.length > 0);
}

/**
 * node:tls skips a `ca` it cannot parse without a word, which would turn a
 * typo into "trust nothing" and a puzzling certificate error at every
 * connection; a `ca` must at least begin with a certificate.
 */
function checkCa(ca: string | Buffer | undefined): void {
  if (ca === undefined) return;
  try {
    new X509Certificate(ca);
  } catch (error) {
    throw refuse(`ca is not a PEM certificate: ${(error as Error).message}`, error);
  }
}

/** A secure context built now, so a bad certificate or key fails connect() instead of every attempt. */
function contextOf(options: { cert?: string | Buffer; key?: string | Buffer; ca?: string | Buffer }): SecureContext {
  try {
    return createSecureContext(options);
  } catch (error) {
    throw refuse(`cannot use the certificate, key or ca given: ${(error as Error).message}`, error);
  }
}

/** The tcp server's tls.Server, its options checked (a bad certificate or key fails serve(), not every handshake). */
export function createTlsTcpServer(options: TlsServerOptions, handshakeTimeoutMs: number): TlsServer {
  if (options === null || typeof options !== 'object') throw refuse('expected { cert, key, ca? } (PEM)');
  if (!isPem(options.cert) || !isPem(options.key)) throw refuse('a TLS server needs both cert and key (PEM)');
  if (options.ca !== undefined && !isPem(options.ca)) throw refuse('ca must be PEM text or a Buffer');
  checkCa(options.ca);
  const requireClientCertificate = options.ca !== undefined;
  try {
    return createTlsServer({
      cert: options.cert,
      key: options.key,
      ...(requireClientCertificate ? { ca: options.ca } : {}),
      requestCert: requireClientCertificate,
      rejectUnauthorized: requireClientCertificate,
      // The handshake gate closes slow handshakes; Node's own timer is only a backstop.
      handshakeTimeout: handshakeTimeoutMs + 1000,
    });
  } catch (error) {
    throw refuse(`cannot use the certificate, key or ca given: ${(error as Error).message}`, error);
  }
}

export interface TlsClientPlan {
  readonly secureContext: SecureContext;
  readonly servername: string | undefined;
  /** The name the certificate must carry (for messages). */
  readonly expectedName: string;
  readonly presentsCertificate: boolean;
}

/** The client's TLS settings, checked once before any connection attempt. */
export function tlsClientPlan(tls: TlsClientOptions | true, host: string): TlsClientPlan {
  const options: TlsClientOptions = tls === true ? {} : tls;
  if (options === null || typeof options !== 'object') throw refuse('expected true or { ca?, cert?, key?, servername? }');
  for (const name of ['ca', 'cert', 'key'] as const) {
    if (options[name] !== undefined && !isPem(options[name])) throw refuse(`${name} must be PEM text or a Buffer`);
  }
  if ((options.cert === undefined) !== (options.key === undefined)) throw refuse('a client certificate needs both cert and key');
  checkCa(options.ca);
  if (options.servername !== undefined && (typeof options.servername !== 'string' || options.servername === '')) {
    throw refuse('servername must be a host name');
  }
  const expectedName = options.servername ?? host;
  return {
    secureContext: contextOf({ ca: options.ca, cert: options.cert, key: options.key }),
    // SNI carries names only (RFC 6066); an address is checked against the certificate without it.
    servername: isIP(expectedName) ? undefined : expectedName,
    expectedName,
    presentsCertificate: options.cert !== undefined,
  };
}

/**
 * Connects and completes the TLS handshake. Errors of the TCP connect itself
 * come out unchanged (the caller retries while nobody listens); certificate
 * and handshake errors become ProcwireErrors (see tlsFailure).
 */
export function connectTls(
  host: string,
  port: number,
  plan: TlsClientPlan,
  where: string,
  signal: AbortSignal,
  onTcpConnect: () => void,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const options: ConnectionOptions = {
      host,
      port,
      secureContext: plan.secureContext,
      rejectUnauthorized: true,
      ...(plan.servername === undefined ? {} : { servername: plan.servername }),
      // Checked against the expected name even when it is an address (no SNI then).
      checkServerIdentity: (_host, certificate) => checkServerIdentity(plan.expectedName, certificate),
    };
    const socket = tlsConnect(options);
    let tcpConnected = false;
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      tcpConnected = true;
      onTcpConnect();
    });
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(tcpConnected ? tlsFailure(error, where, plan) : error);
    };
    socket.once('error', onError);
  });
}

/** "tlsv13 alert certificate required" out of OpenSSL's long error text. */
function opensslReason(error: Error): string {
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1];
  return reason ?? error.message;
}

/**
 * What a TLS error means, for the client: the server's certificate was not
 * trusted (CONNECT_FAILED), or the server refused us, typically our
 * certificate (ACCESS_DENIED), with the TLS reason in the message. Errors
 * that are not TLS errors are returned as they are.
 */
export function tlsFailure(error: Error, where: string, plan: Pick<TlsClientPlan, 'presentsCertificate' | 'expectedName'>): Error {
  if (error instanceof ProcwireError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (CERTIFICATE_CODES.has(code) || code.startsWith('ERR_TLS_CERT')) {
    return new ProcwireError(
      ErrorCode.CONNECT_FAILED,
      `cannot connect to ${where} over TLS: its certificate was refused: ${error.message} (${code})`,
      { cause: error },
    );
  }
  if (/^ERR_SSL_(TLSV1|TLSV13|SSLV3)_ALERT_/.test(code)) {
    const hint = code.includes('CERTIFICATE_REQUIRED')
      ? ': it requires a client certificate (tls: { cert, key })'
      : plan.presentsCertificate && /CERTIFICATE|UNKNOWN_CA|BAD_CERT/.test(code)
        ? ': it did not accept our client certificate'
        : '';
    return new ProcwireError(ErrorCode.ACCESS_DENIED, `${where} refused the TLS connection${hint} (${opensslReason(error)}, ${code})`, {
      cause: error,
    });
  }
  if (code.startsWith('ERR_SSL_')) {
    return new ProcwireError(
      ErrorCode.CONNECT_FAILED,
      `cannot connect to ${where} over TLS: ${opensslReason(error)} (${code}); does it serve TLS?`,
      { cause: error },
    );
  }
  return error;
}

/** OpenSSL's verification results for a certificate chain (X509_V_ERR_* names, as Node reports them). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
]);
