/**
 * Authentication on tcp: (a shared secret, TLS, both) and the bound on
 * incomplete transport handshakes, against a server in its own process
 * (test/fixtures/tcpSecureServer.ts). The server's `report` says how many
 * calls reached a handler and what the transport refused (onRefused), so
 * every refusal is checked on both sides.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, ProcwireError, serve, type ConnectOptions, type SharedSecret } from 'procwire';
import { decode, encode } from 'procwire/link';
import { guarded, type TcpSecurity } from '../fixtures/tcpSecureChannel.js';
import { makeTestCertificates, type TestCertificates } from '../fixtures/tcpSecureCerts.js';
import { startSecureServer, type SecureServer } from '../fixtures/tcpSecureProcess.js';
import { recordHardening } from '../helpers/hardenTally.js';
import { tempSocketPath } from '../helpers/processes.js';

const SECRET = 'procwire tcp test secret, 41 bytes long!!';
const HANDSHAKE_DEADLINE_MS = 5000;
const GATE_SLOTS = 64;

const dir = mkdtempSync(join(tmpdir(), 'pw-tcpsec-'));
const servers: SecureServer[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function startReady(security: TcpSecurity, env: NodeJS.ProcessEnv = {}): Promise<SecureServer> {
  const server = await startSecureServer(security, env);
  if (server.outcome !== 'ready') throw new Error(`serve() refused: ${server.code} ${server.message}`);
  servers.push(server);
  return server;
}

async function report(url: string, options: ConnectOptions) {
  const client = await connect(guarded, url, options);
  try {
    return await client.rpc.report();
  } finally {
    await client.close();
  }
}

/** Connects and makes `calls` calls; resolves with how many answered right. */
async function callsPass(url: string, options: ConnectOptions, calls = 10): Promise<number> {
  const client = await connect(guarded, url, options);
  let right = 0;
  try {
    for (let i = 0; i < calls; i++) if ((await client.rpc.add({ a: i, b: 1 })) === i + 1) right++;
  } finally {
    await client.close();
  }
  return right;
}

/** The error connect() rejects with, and how long that took. */
async function connectError(url: string, options: ConnectOptions): Promise<{ error: ProcwireError; ms: number }> {
  const started = Date.now();
  try {
    const client = await connect(guarded, url, options);
    await client.close();
  } catch (error) {
    expect(error).toBeInstanceOf(ProcwireError);
    return { error: error as ProcwireError, ms: Date.now() - started };
  }
  throw new Error(`connect to ${url} succeeded; it should have been refused`);
}

const emptyReport = () => ({ dispatched: 0, refused: {}, refusals: [], connections: 0 });

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/** A raw TCP client: sends `bytes`, collects what comes back until the server closes (or `limitMs`). */
function rawSession(url: string, bytes: Buffer, limitMs: number): Promise<{ received: Buffer; closedAfterMs: number | undefined }> {
  const { host, port } = hostAndPort(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const chunks: Buffer[] = [];
    const started = Date.now();
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedAfterMs: undefined });
    }, limitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), closedAfterMs: Date.now() - started });
    });
  });
}

/** Reads exact byte counts from a raw socket (for the independent client below). */
class ByteReader {
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = false;
  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }
  async take(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      if (this.closed) throw new Error(`closed after ${this.buffered.length} of ${n} bytes`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }
}

// ------------------------------------------------ docs/PROTOCOL.md section 14

const DOC = readFileSync(fileURLToPath(new URL('../../docs/PROTOCOL.md', import.meta.url)), 'utf8');

/** The fields of the ```tcp-secret-example block; indented lines continue a field. */
function docExample(): Record<string, string> {
  const block = /^```tcp-secret-example\n([\s\S]*?)^```$/m.exec(DOC);
  if (!block) throw new Error('docs/PROTOCOL.md has no tcp-secret-example block');
  const fields: Record<string, string> = {};
  let last = '';
  for (const line of block[1]!.split('\n')) {
    const field = /^([a-z][\w-]*):\s?(.*)$/.exec(line);
    if (field) fields[(last = field[1]!)] = field[2]!;
    else if (/^\s+\S/.test(line)) fields[last] += ` ${line.trim()}`;
  }
  return fields;
}

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** The proof as section 14.2 defines it, computed here without procwire's code. */
function docProof(secret: Buffer, label: string, clientHello: Buffer, serverHello: Buffer): Buffer {
  return createHmac('sha256', secret).update(Buffer.from(label, 'latin1')).update(clientHello).update(serverHello).digest();
}

/**
 * A client written from section 14.2 alone: hello, proof, check the server's
 * proof, then a plain msgpack-rpc request. Resolves with the response.
 */
async function docClient(url: string, secret: Buffer, pipelined = false): Promise<unknown> {
  const example = docExample();
  const clientMagic = hex(example['client-hello']!).subarray(0, 5);
  const serverMagic = hex(example['server-hello']!).subarray(0, 5);
  const { host, port } = hostAndPort(url);
  const socket = createConnection({ host, port });
  const reader = new ByteReader(socket);
  try {
    const clientHello = Buffer.concat([clientMagic, randomBytes(32)]);
    socket.write(clientHello);
    const serverHello = await reader.take(37);
    expect(serverHello.subarray(0, 5)).toEqual(serverMagic);
    const proof = docProof(secret, example['client-label']!, clientHello, serverHello);
    const request = encode([0, 1, 'guarded.add', [{ a: 20, b: 22 }]]);
    // Pipelined: the request rides in the proof's write; the server must leave it for the link.
    if (pipelined) socket.write(Buffer.concat([proof, request]));
    else socket.write(proof);
    const serverProof = await reader.take(32);
    expect(timingSafeEqual(serverProof, docProof(secret, example['server-label']!, clientHello, serverHello))).toBe(true);
    if (!pipelined) socket.write(request);
    // [1, 1, nil, 42]: 94 01 01 c0 2a.
    return decode(await reader.take(5));
  } finally {
    socket.destroy();
  }
}

describe('docs/PROTOCOL.md section 14: the shared-secret exchange', () => {
  it('the example bytes are what the section says to compute', () => {
    const e = docExample();
    const secret = Buffer.from(e.secret!, 'utf8');
    const clientHello = hex(e['client-hello']!);
    const serverHello = hex(e['server-hello']!);
    expect(clientHello.length).toBe(37);
    expect(serverHello.length).toBe(37);
    expect(clientHello.subarray(0, 5).toString('latin1')).toBe('\xc1pwc\x01');
    expect(serverHello.subarray(0, 5).toString('latin1')).toBe('\xc1pws\x01');
    expect(docProof(secret, e['client-label']!, clientHello, serverHello)).toEqual(hex(e['client-proof']!));
    expect(docProof(secret, e['server-label']!, clientHello, serverHello)).toEqual(hex(e['server-proof']!));
  });
});

// ------------------------------------------------------------ shared secret

describe('tcp: shared secret', () => {
  const secret = { value: SECRET };
  let server: SecureServer;
  beforeAll(async () => {
    server = await startReady({ secret });
  });

  it('the right secret: calls pass', async () => {
    const right = await callsPass(server.url, { secret }, 20);
    expect(right).toBe(20);
    recordHardening({ section: 'access', name: 'tcp secret: right secret, calls pass', tried: 20, passed: right });
  });

  it('a wrong secret: ACCESS_DENIED, no handler runs, and the server keeps serving others', async () => {
    const before = await report(server.url, { secret });
    const attempts = 5;
    let denied = 0;
    let servedBetween = 0;
    for (let i = 0; i < attempts; i++) {
      const { error } = await connectError(server.url, { secret: { value: `${SECRET.slice(0, -1)}?` } });
      if (error.code === ErrorCode.ACCESS_DENIED && /refused the shared secret/.test(error.message)) denied++;
      servedBetween += await callsPass(server.url, { secret }, 1);
    }
    const after = await report(server.url, { secret });
    expect(denied).toBe(attempts);
    expect(servedBetween).toBe(attempts);
    // Only the good clients' calls reached a handler.
    expect(after.dispatched - before.dispatched).toBe(servedBetween);
    expect((after.refused.ACCESS_DENIED ?? 0) - (before.refused.ACCESS_DENIED ?? 0)).toBe(attempts);
    expect(after.refusals.at(-1)).toMatch(/failed the shared-secret exchange \(wrong proof\)/);
    recordHardening({
      section: 'access',
      name: 'tcp secret: wrong secret refused, others served',
      tried: attempts,
      passed: Math.min(denied, (after.refused.ACCESS_DENIED ?? 0) - (before.refused.ACCESS_DENIED ?? 0)),
      detail: `handler calls from refused clients: ${after.dispatched - before.dispatched - servedBetween}`,
    });
  });

  it('a client without the secret gets a clear ACCESS_DENIED at once, not a wait', async () => {
    const { error, ms } = await connectError(server.url, {});
    expect(error.code).toBe(ErrorCode.ACCESS_DENIED);
    expect(error.message).toMatch(/requires a shared secret/);
    expect(ms).toBeLessThan(HANDSHAKE_DEADLINE_MS);
    recordHardening({
      section: 'access',
      name: 'tcp secret: client without the secret',
      tried: 1,
      passed: error.code === ErrorCode.ACCESS_DENIED ? 1 : 0,
      detail: `refused in ${ms} ms`,
    });
  });

  it('a client with a secret against a server without one gets a clear ACCESS_DENIED at once', async () => {
    const plain = await startReady({});
    const { error, ms } = await connectError(plain.url, { secret });
    expect(error.code).toBe(ErrorCode.ACCESS_DENIED);
    expect(error.message).toMatch(/closed the connection before the shared-secret exchange/);
    expect(ms).toBeLessThan(HANDSHAKE_DEADLINE_MS);
    // And the plain server still serves plain clients.
    expect(await callsPass(plain.url, {}, 3)).toBe(3);
    recordHardening({
      section: 'access',
      name: 'tcp secret: secret client against a server without one',
      tried: 1,
      passed: error.code === ErrorCode.ACCESS_DENIED ? 1 : 0,
      detail: `refused in ${ms} ms`,
    });
  });

  it('a raw msgpack-rpc request without the exchange is never answered; no handler runs', async () => {
    const fresh = await startReady({ secret });
    const request = encode([0, 1, 'guarded.add', [{ a: 1, b: 2 }]]);
    const tried = 5;
    let unanswered = 0;
    let slowest = 0;
    for (let i = 0; i < tried; i++) {
      const { received, closedAfterMs } = await rawSession(fresh.url, request, 3000);
      // All it ever gets is the server's 37-byte hello; then the server hangs up.
      if (received.length === 37 && received.subarray(0, 5).equals(Buffer.from('c170777301', 'hex')) && closedAfterMs !== undefined)
        unanswered++;
      slowest = Math.max(slowest, closedAfterMs ?? Infinity);
    }
    const after = await report(fresh.url, { secret });
    expect(unanswered).toBe(tried);
    expect(after.dispatched).toBe(0);
    expect(after.refused.ACCESS_DENIED).toBe(tried);
    expect(after.refusals[0]).toMatch(/not a procwire secret hello/);
    recordHardening({
      section: 'access',
      name: 'tcp secret: raw msgpack-rpc request before the exchange',
      tried,
      passed: after.dispatched === 0 ? unanswered : 0,
      detail: `closed after at most ${slowest} ms, server handler calls ${after.dispatched}`,
    });
  });

  it('a client written from docs/PROTOCOL.md section 14 alone logs in and calls', async () => {
    expect(await docClient(server.url, Buffer.from(SECRET))).toEqual([1, 1, null, 42]);
    expect(await docClient(server.url, Buffer.from(SECRET), true)).toEqual([1, 1, null, 42]);
    await expect(docClient(server.url, Buffer.from(`${SECRET}x`))).rejects.toThrow(/closed after 0 of 32 bytes/);
  });
});

describe('tcp: where the secret comes from', () => {
  const secretDir = join(dir, 'secrets');
  beforeAll(() => {
    mkdirSync(secretDir, { mode: 0o700 });
  });

  function secretFile(name: string, content: string, mode: number): string {
    const path = join(secretDir, name);
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  }

  it('a 0600 file of this user: served, and clients may give the same secret by file or value', async () => {
    const path = secretFile('good', `${SECRET}\n`, 0o600);
    const server = await startReady({ secret: { file: path } });
    const byFile = await callsPass(server.url, { secret: { file: path } }, 3);
    // The trailing newline of the file is not part of the secret.
    const byValue = await callsPass(server.url, { secret: { value: SECRET } }, 3);
    expect([byFile, byValue]).toEqual([3, 3]);
    recordHardening({ section: 'access', name: 'tcp secret: 0600 file source', tried: 6, passed: byFile + byValue });
  });

  it('a secret file of mode 0644, or of another user, is refused by serve() in the server process', async () => {
    const asRoot = process.getuid!() === 0;
    const foreign = secretFile('foreign', SECRET, 0o600);
    if (asRoot) chownSync(foreign, 65534, 65534);
    const cases: Array<{ what: string; path: string; expect: RegExp }> = [
      { what: 'mode 0644', path: secretFile('world', SECRET, 0o644), expect: /world has mode 0644: its group or others may use it/ },
      // As root the file is handed to nobody; as anyone else a root file stands in.
      asRoot
        ? { what: 'owned by nobody', path: foreign, expect: /foreign \(mode 0600\) belongs to uid 65534, not to this process's uid 0/ }
        : { what: 'owned by root', path: '/etc/passwd', expect: /belongs to uid 0/ },
    ];
    const outcomes = await Promise.all(cases.map((c) => startSecureServer({ secret: { file: c.path } })));
    let refused = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome.outcome === 'ready') {
        servers.push(outcome);
        throw new Error(`serve() took a secret file that is ${cases[i]!.what}`);
      }
      expect(outcome.code, cases[i]!.what).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(outcome.message, cases[i]!.what).toMatch(cases[i]!.expect);
      refused++;
    });
    recordHardening({
      section: 'access',
      name: 'tcp secret: unsafe secret files refused at serve (server process)',
      tried: cases.length,
      passed: refused,
      detail: cases.map((c) => c.what).join(', '),
    });
  });

  it('other unusable secrets are refused by serve() and connect(), naming why', async () => {
    const cases: Array<{ what: string; secret: SharedSecret; expect: RegExp }> = [
      { what: 'file mode 0640', secret: { file: secretFile('group', SECRET, 0o640) }, expect: /group has mode 0640/ },
      { what: 'empty file', secret: { file: secretFile('empty', '', 0o600) }, expect: /empty is empty/ },
      {
        what: 'short file',
        secret: { file: secretFile('short', 'eight b.', 0o600) },
        expect: /holds 8 bytes; a shared secret needs at least 16/,
      },
      { what: 'a directory', secret: { file: secretDir }, expect: /is not a regular file/ },
      { what: 'missing file', secret: { file: join(secretDir, 'nothing-here') }, expect: /cannot open the secret file .*nothing-here/ },
      { what: 'unset variable', secret: { env: 'PROCWIRE_TCP_TEST_UNSET' }, expect: /PROCWIRE_TCP_TEST_UNSET is not set/ },
      { what: 'short value', secret: { value: 'too short' }, expect: /holds 9 bytes/ },
      { what: 'empty value', secret: { value: '' }, expect: /the value is empty/ },
    ];
    let refused = 0;
    for (const c of cases) {
      const served = serve(
        guarded,
        'tcp://127.0.0.1:0',
        { add: () => 0, report: emptyReport },
        { secret: c.secret, shutdownSignals: false },
      );
      await expect(served, c.what).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, message: expect.stringMatching(c.expect) });
      const { error } = await connectError('tcp://127.0.0.1:9', { secret: c.secret });
      expect(error.code, c.what).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(error.message, c.what).toMatch(c.expect);
      refused++;
    }
    recordHardening({
      section: 'access',
      name: 'tcp secret: unusable secrets refused at serve and connect',
      tried: cases.length,
      passed: refused,
      detail: cases.map((c) => c.what).join(', '),
    });
  });

  it('an environment variable: the server and a client take the secret from it', async () => {
    const variable = 'PROCWIRE_TCP_TEST_SECRET';
    const server = await startReady({ secret: { env: variable } }, { [variable]: `${SECRET}\n` });
    process.env[variable] = SECRET;
    let passed: number;
    try {
      passed = await callsPass(server.url, { secret: { env: variable } }, 3);
    } finally {
      delete process.env[variable];
    }
    expect(passed).toBe(3);
    passed += await callsPass(server.url, { secret: { value: SECRET } }, 3);
    expect(passed).toBe(6);
    recordHardening({ section: 'access', name: 'tcp secret: environment variable source', tried: 6, passed });
  });

  it('secret and tls are tcp: options: a unix: endpoint refuses them', async () => {
    const path = tempSocketPath();
    await expect(
      serve(guarded, `unix://${path}`, { add: () => 0, report: emptyReport }, { secret: { value: SECRET }, shutdownSignals: false }),
    ).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(/only tcp: endpoints take this option/),
    });
    await expect(connect(guarded, `unix://${path}`, { tls: true })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });
});

// ---------------------------------------------------------------------- TLS

describe('tcp: TLS', () => {
  let certs: TestCertificates;
  const pem = (path: string) => readFileSync(path);
  beforeAll(() => {
    certs = makeTestCertificates(mkdtempSync(join(dir, 'certs-')));
  });

  it('server certificate: calls pass over TLS; an untrusted certificate or a wrong name is refused naming the problem', async () => {
    const server = await startReady({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    const ca = pem(certs.ca);
    let passed = 0;
    passed += await callsPass(server.url, { tls: { ca } }, 5);
    // By name: the certificate carries DNS:localhost too.
    passed += await callsPass(server.url.replace('127.0.0.1', 'localhost'), { tls: { ca } }, 5);
    expect(passed).toBe(10);

    const refusals = [
      {
        what: 'another CA',
        options: { tls: { ca: pem(certs.otherCa) } },
        expect: /certificate was refused: unable to verify the first certificate/,
      },
      { what: "Node's roots", options: { tls: true as const }, expect: /certificate was refused/ },
      {
        what: 'a wrong name',
        options: { tls: { ca, servername: 'example.com' } },
        expect: /certificate was refused: Hostname\/IP does not match certificate's altnames/,
      },
      { what: 'no TLS', options: {}, expect: /speaks TLS: connect with \{ tls \}/ },
    ];
    let refused = 0;
    for (const r of refusals) {
      const { error } = await connectError(server.url, r.options);
      expect(error.code, r.what).toBe(ErrorCode.CONNECT_FAILED);
      expect(error.message, r.what).toMatch(r.expect);
      refused++;
    }
    expect((await report(server.url, { tls: { ca } })).dispatched).toBe(10);
    recordHardening({ section: 'access', name: 'tcp tls: server certificate verified', tried: 10, passed });
    recordHardening({
      section: 'access',
      name: 'tcp tls: untrusted CA, wrong name, no TLS refused',
      tried: refusals.length,
      passed: refused,
      detail: refusals.map((r) => r.what).join(', '),
    });
  });

  it('client certificates: required and checked; none or another CA’s is ACCESS_DENIED and runs no handler', async () => {
    const server = await startReady({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca } });
    const good = { tls: { ca: pem(certs.ca), cert: pem(certs.clientCert), key: pem(certs.clientKey) } };
    expect(await callsPass(server.url, good, 5)).toBe(5);
    const before = await report(server.url, good);

    const none = await connectError(server.url, { tls: { ca: pem(certs.ca) } });
    expect(none.error.code).toBe(ErrorCode.ACCESS_DENIED);
    expect(none.error.message).toMatch(/requires a client certificate .*certificate required/);
    const stranger = await connectError(server.url, {
      tls: { ca: pem(certs.ca), cert: pem(certs.otherClientCert), key: pem(certs.otherClientKey) },
    });
    expect(stranger.error.code).toBe(ErrorCode.ACCESS_DENIED);
    expect(stranger.error.message).toMatch(/did not accept our client certificate/);

    const after = await report(server.url, good);
    expect(after.dispatched).toBe(before.dispatched);
    expect((after.refused.ACCESS_DENIED ?? 0) - (before.refused.ACCESS_DENIED ?? 0)).toBe(2);
    expect(after.refusals.join('\n')).toMatch(/peer did not return a certificate/);
    expect(after.refusals.join('\n')).toMatch(/its certificate was refused \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    recordHardening({
      section: 'access',
      name: 'tcp tls: client certificate missing or from another CA',
      tried: 2,
      passed: [none, stranger].filter((r) => r.error.code === ErrorCode.ACCESS_DENIED).length,
      detail: `server counted ${(after.refused.ACCESS_DENIED ?? 0) - (before.refused.ACCESS_DENIED ?? 0)} refusals, handler calls ${after.dispatched - before.dispatched}`,
    });
  });

  it('unusable TLS material is INVALID_ARGUMENT from serve() and connect(), before any connection', async () => {
    const handlers = { add: () => 0, report: emptyReport };
    const garbage = '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n';
    await expect(
      serve(guarded, 'tcp://127.0.0.1:0', handlers, { tls: { cert: garbage, key: garbage }, shutdownSignals: false }),
    ).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(/^tls: cannot use the certificate, key or ca given/),
    });
    await expect(
      serve(guarded, 'tcp://127.0.0.1:0', handlers, { tls: { cert: pem(certs.serverCert) } as never, shutdownSignals: false }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, message: expect.stringMatching(/needs both cert and key/) });
    // node:tls itself would take this ca silently and trust nothing.
    await expect(connect(guarded, 'tcp://127.0.0.1:9', { tls: { ca: garbage } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(/ca is not a PEM certificate/),
    });
    await expect(
      serve(guarded, 'tcp://127.0.0.1:0', handlers, {
        tls: { cert: pem(certs.serverCert), key: pem(certs.serverKey), ca: garbage },
        shutdownSignals: false,
      }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, message: expect.stringMatching(/ca is not a PEM certificate/) });
    await expect(connect(guarded, 'tcp://127.0.0.1:9', { tls: { cert: pem(certs.clientCert) } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(/needs both cert and key/),
    });
  });

  it('TLS and a secret together: both are needed', async () => {
    const secret = { value: SECRET };
    const server = await startReady({ secret, tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca } });
    const tls = { ca: pem(certs.ca), cert: pem(certs.clientCert), key: pem(certs.clientKey) };
    expect(await callsPass(server.url, { secret, tls }, 5)).toBe(5);
    const wrong = await connectError(server.url, { secret: { value: `${SECRET}!` }, tls });
    expect(wrong.error.code).toBe(ErrorCode.ACCESS_DENIED);
    expect(wrong.error.message).toMatch(/refused the shared secret/);
    const noSecret = await connectError(server.url, { tls });
    expect(noSecret.error.code).toBe(ErrorCode.ACCESS_DENIED);
    expect(noSecret.error.message).toMatch(/requires a shared secret/);
    const noTls = await connectError(server.url, { secret });
    expect(noTls.error.code).not.toBe(undefined);
    const after = await report(server.url, { secret, tls });
    expect(after.dispatched).toBe(5);
    recordHardening({
      section: 'access',
      name: 'tcp tls+secret: wrong secret, no secret, no TLS refused',
      tried: 3,
      passed: [wrong, noSecret, noTls].filter((r) => r.error instanceof ProcwireError).length,
      detail: `no TLS: ${noTls.error.code} in ${noTls.ms} ms`,
    });
  });
});

// ------------------------------------------------------------ handshake gate

/**
 * Opens `count` TCP connections that never say a word and records, for each,
 * when the server closed it (ms after the flood started).
 */
async function silentFlood(url: string, count: number, during?: () => Promise<void>): Promise<number[]> {
  const { host, port } = hostAndPort(url);
  const started = Date.now();
  const closedAt = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve) => {
          const socket = createConnection({ host, port });
          socket.on('data', () => {}); // the server's hello, if any
          socket.on('error', () => {});
          const limit = setTimeout(() => socket.destroy(), HANDSHAKE_DEADLINE_MS + 10_000);
          socket.on('close', () => {
            clearTimeout(limit);
            resolve(Date.now() - started);
          });
        }),
    ).concat(during ? [during().then(() => -1)] : []),
  );
  return closedAt.filter((t) => t >= 0);
}

function floodFigures(closedAt: number[]) {
  const atOnce = closedAt.filter((t) => t < 1500);
  const held = closedAt.filter((t) => t >= 3000);
  return { atOnce: atOnce.length, held: held.length, firstHeldClose: Math.min(...held), lastClose: Math.max(...closedAt) };
}

describe('tcp: bounded transport handshakes', () => {
  it('a client gives up on a server that never answers the exchange after the deadline, with TIMEOUT', async () => {
    // Accepts and says nothing, as a stuck or hostile server would.
    const silent = createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `tcp://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const [secretOnly, overTls] = await Promise.all([connectError(url, { secret: { value: SECRET } }), connectError(url, { tls: true })]);
      for (const r of [secretOnly, overTls]) {
        expect(r.error.code).toBe(ErrorCode.TIMEOUT);
        expect(r.ms).toBeGreaterThanOrEqual(HANDSHAKE_DEADLINE_MS - 100);
        expect(r.ms).toBeLessThan(HANDSHAKE_DEADLINE_MS + 3000);
      }
      expect(overTls.error.message).toMatch(/did not complete the TLS handshake within 5000 ms/);
      recordHardening({
        section: 'access',
        name: 'tcp client deadline: a silent server (secret, TLS)',
        tried: 2,
        passed: [secretOnly, overTls].filter((r) => r.error.code === ErrorCode.TIMEOUT).length,
        detail: `gave up after ${secretOnly.ms} / ${overTls.ms} ms`,
      });
    } finally {
      silent.close();
    }
  });

  it('secret: 100 silent connections: 64 held, the rest closed at once, all closed by the deadline; then a client gets in', async () => {
    const secret = { value: SECRET };
    const server = await startReady({ secret });
    let duringFlood: ProcwireError | undefined;
    const closedAt = await silentFlood(server.url, 100, async () => {
      // While the gate is full, a real client is turned away at once too.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      duringFlood = (await connectError(server.url, { secret })).error;
    });
    const f = floodFigures(closedAt);
    expect(f.held).toBeLessThanOrEqual(GATE_SLOTS);
    expect(f.atOnce).toBeGreaterThanOrEqual(100 - GATE_SLOTS);
    expect(f.atOnce + f.held).toBe(100);
    expect(f.firstHeldClose).toBeGreaterThanOrEqual(HANDSHAKE_DEADLINE_MS - 1000);
    expect(f.lastClose).toBeLessThan(HANDSHAKE_DEADLINE_MS + 3000);
    expect(duringFlood?.code).toBe(ErrorCode.ACCESS_DENIED);
    expect(await callsPass(server.url, { secret }, 5)).toBe(5);
    const after = await report(server.url, { secret });
    expect(after.refused.TOO_MANY_CONNECTIONS).toBe(f.atOnce + 1);
    expect(after.refused.TIMEOUT).toBe(f.held);
    expect(after.dispatched).toBe(5);
    // Nothing of the flood became a connection: only the report's own.
    expect(after.connections).toBe(1);
    recordHardening({
      section: 'access',
      name: 'tcp handshake gate (secret): 100 silent connections',
      tried: 100,
      passed: f.atOnce + f.held,
      detail: `${f.held} held until ${f.firstHeldClose}-${f.lastClose} ms, ${f.atOnce} closed at once; a client got in afterwards`,
    });
  });

  it('TLS: 100 silent connections are bounded the same way; the server stays healthy', async () => {
    const certs = makeTestCertificates(mkdtempSync(join(dir, 'certs-gate-')));
    const server = await startReady({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    const tls = { ca: readFileSync(certs.ca) };
    const closedAt = await silentFlood(server.url, 100);
    const f = floodFigures(closedAt);
    expect(f.held).toBeLessThanOrEqual(GATE_SLOTS);
    expect(f.atOnce).toBeGreaterThanOrEqual(100 - GATE_SLOTS);
    expect(f.atOnce + f.held).toBe(100);
    expect(f.firstHeldClose).toBeGreaterThanOrEqual(HANDSHAKE_DEADLINE_MS - 1000);
    expect(f.lastClose).toBeLessThan(HANDSHAKE_DEADLINE_MS + 3000);
    expect(await callsPass(server.url, { tls }, 5)).toBe(5);
    const after = await report(server.url, { tls });
    expect(after.refused.TOO_MANY_CONNECTIONS).toBe(f.atOnce);
    expect(after.refused.TIMEOUT).toBe(f.held);
    expect(after.connections).toBe(1);
    expect(server.child.exitCode).toBe(null);
    recordHardening({
      section: 'access',
      name: 'tcp handshake gate (TLS): 100 silent connections',
      tried: 100,
      passed: f.atOnce + f.held,
      detail: `${f.held} held until ${f.firstHeldClose}-${f.lastClose} ms, ${f.atOnce} closed at once`,
    });
  });
});
