import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/**
 * Whether this helper runs compiled to JavaScript: the Windows conformance run
 * (test/windows/tsconfig.json) has no tsx in node.exe under Wine, and starts
 * the compiled .js fixtures beside it with plain node instead.
 */
const COMPILED = import.meta.url.endsWith('.js');

/** The Node flags a fixture process needs: tsx for .ts fixtures, none for compiled ones. */
export const FIXTURE_EXEC_ARGV: readonly string[] = COMPILED ? [] : ['--import', 'tsx'];

/** The path of fixture `name` (as in 'calcServer.ts'), the .js file when running compiled. */
export function fixturePath(name: string): string {
  return join(FIXTURES, COMPILED ? name.replace(/\.ts$/, '.js') : name);
}

/** A short unique name for sockets and other named objects of one test. */
export function uniqueName(prefix = 'pw'): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function tempSocketPath(): string {
  return join(tmpdir(), `${uniqueName()}.sock`);
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** The URL the server reported (with the real port for tcp://host:0). */
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a fixture server in its own Node process and resolves once it prints
 * "ready <url>". Its stderr is passed through, so a crash shows in the test output.
 */
export function startServerProcess(url: string, fixture = 'calcServer.ts', env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...FIXTURE_EXEC_ARGV, fixturePath(fixture), url], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // A short grace period: tests stop servers with SIGTERM and should not wait long.
    env: { ...process.env, PROCWIRE_GRACE_MS: '200', ...env },
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // SIGTERM by default: procwire then removes the server's names itself.
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`server for ${url} did not become ready: ${out}`));
      // Generous: under load (and with a sanitized addon) a fixture may take many seconds to start.
    }, 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^ready (\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, exited, kill });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server for ${url} exited (${code ?? signal}) before it was ready: ${out}`));
    });
  });
}

/**
 * Starts a process that connects to `url` as a raw link, sends half of a
 * large frame, and kills it with SIGKILL right there.
 */
export async function killWriterMidFrame(url: string): Promise<void> {
  const writer = spawn(process.execPath, [...FIXTURE_EXEC_ARGV, fixturePath('halfFrameWriter.ts'), url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => writer.stdout!.once('data', () => resolve()));
  writer.kill('SIGKILL');
  await new Promise((resolve) => writer.once('exit', resolve));
}
