import { ErrorCode, ProcwireError } from '@procwire/core';

/** An endpoint URL taken apart. Only the fields the scheme uses are set. */
export interface Endpoint {
  /** The URL as given. */
  readonly url: string;
  /** Scheme without the colon. */
  readonly scheme: string;
  /** Decoded path (`/tmp/calc.sock`, `@calc` for abstract names). */
  readonly path: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly searchParams: URLSearchParams;
}

/** sun_path holds 108 bytes including the terminating NUL. */
export const MAX_UNIX_PATH_BYTES = 107;

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

export function invalidEndpoint(url: string, why: string): ProcwireError {
  return new ProcwireError(ErrorCode.INVALID_ENDPOINT, `endpoint ${JSON.stringify(url)}: ${why}`);
}

/**
 * Parses an endpoint URL. WHATWG URL parsing is used for the authority and
 * query, but `unix:@name` and `socketpair:` have no authority, so the path is
 * taken from the text after the scheme when there is no `//`.
 */
export function parseEndpoint(url: unknown): Endpoint {
  if (typeof url !== 'string' || url.length === 0) {
    throw new ProcwireError(ErrorCode.INVALID_ENDPOINT, `endpoint must be a URL string such as "unix:///tmp/app.sock" (got ${typeof url})`);
  }
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (!scheme) throw invalidEndpoint(url, 'expected a URL that starts with a scheme, such as unix:, tcp: or socketpair:');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidEndpoint(url, 'not a valid URL');
  }
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    throw invalidEndpoint(url, 'the path has invalid percent-encoding');
  }
  const port = parsed.port === '' ? undefined : Number(parsed.port);
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { url, scheme, path, host, port, searchParams: parsed.searchParams };
}
