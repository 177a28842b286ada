/** Command line of `pnpm bench`. */
export interface BenchArgs {
  /** Fewer iterations and one repetition: a smoke run of well under a minute. */
  readonly quick: boolean;
  /** Run only cases whose id contains one of these substrings. */
  readonly only: readonly string[];
  readonly repeats: number;
  readonly help: boolean;
}

export const USAGE = `usage: pnpm bench [--quick] [--only=<substring>[,<substring>…]] [--repeats=<n>]
  --quick        fewer iterations, one repetition (smoke run)
  --only=…       run only cases whose id contains a substring (e.g. --only=unix, --only=procwire,raw)
  --repeats=n    sessions per case and pinning mode (default 3; medians of medians are reported)`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let help = false;
  let only: string[] = [];
  let repeats: number | undefined;
  for (const arg of argv) {
    if (arg === '--') continue;
    if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg.startsWith('--only=')) only = arg.slice(7).split(',').filter(Boolean);
    else if (arg.startsWith('--repeats=')) {
      repeats = Number(arg.slice(10));
      if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a positive integer\n${USAGE}`);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { quick, only, repeats: repeats ?? (quick ? 1 : 3), help };
}
