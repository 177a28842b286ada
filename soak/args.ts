/** Command line of `pnpm soak`. */
import { TRANSPORTS } from './transports.js';

export interface SoakArgs {
  /** Calls per transport. */
  readonly calls: number;
  readonly transports: readonly string[];
  readonly clients: number;
  readonly inFlight: number;
  /** How often server and client RSS are read. */
  readonly sampleMs: number;
  /** Write every RSS sample here as JSON lines (transport, done, server, client). */
  readonly samplesFile: string | undefined;
  readonly help: boolean;
}

export const USAGE = `usage: pnpm soak [--calls N] [--transports a,b,...] [--clients C] [--in-flight K] [--sample-ms MS]
  --calls N         calls per transport (default 10000000; 1e6 and 10_000_000 are accepted)
  --transports ...  which ones, from: ${TRANSPORTS.map((t) => t.id).join(', ')}
                    (default: all of them)
  --clients C       connections per transport (default 4); a spawned worker (socketpair, pipe)
                    is one connection carrying C x K calls in flight
  --in-flight K     calls pending at once per connection (default 64)
  --sample-ms MS    how often RSS is read from /proc (default 500: a 10M-call run lasts ~20-60 s)
  --samples FILE    also write every sample to FILE as JSON lines`;

function count(flag: string, value: string | undefined, min: number): number {
  const number = Number((value ?? '').replaceAll('_', ''));
  if (!Number.isSafeInteger(number) || number < min) throw new Error(`${flag} needs an integer >= ${min}\n${USAGE}`);
  return number;
}

export function parseArgs(argv: readonly string[]): SoakArgs {
  let calls = 10_000_000;
  let transports = TRANSPORTS.map((t) => t.id);
  let clients = 4;
  let inFlight = 64;
  let sampleMs = 500;
  let samplesFile: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--') continue;
    else if (flag === '--help' || flag === '-h') help = true;
    else if (flag === '--calls') calls = count(flag, value(), 1000);
    else if (flag === '--clients') clients = count(flag, value(), 1);
    else if (flag === '--in-flight') inFlight = count(flag, value(), 1);
    else if (flag === '--sample-ms') sampleMs = count(flag, value(), 100);
    else if (flag === '--samples') samplesFile = value();
    else if (flag === '--transports') {
      transports = (value() ?? '').split(',').filter(Boolean);
      const unknown = transports.filter((id) => !TRANSPORTS.some((t) => t.id === id));
      if (unknown.length > 0 || transports.length === 0) throw new Error(`unknown transport(s) ${unknown.join(', ')}\n${USAGE}`);
    } else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  return { calls, transports, clients, inFlight, sampleMs, samplesFile, help };
}
