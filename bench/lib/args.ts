/** Command line of `pnpm bench`. */
export interface BenchArgs {
  /** Fewer iterations and one repetition: a smoke run of well under a minute. */
  readonly quick: boolean;
  /** Run only cases whose id has one of these as a part (see `selects`). */
  readonly only: readonly string[];
  readonly repeats: number;
  /** Also write the chart to bench/chart.svg, the copy the README shows (committed). */
  readonly publish: boolean;
  readonly help: boolean;
}

export const USAGE = `usage: pnpm bench [--quick] [--only=<substring>[,<substring>…]] [--repeats=<n>] [--publish]
  --quick        fewer iterations, one repetition (smoke run)
  --only=…       run only cases, C baselines and idle checks whose id contains one of these
                 at its start or after a / or - (e.g. --only=unix, --only=procwire,raw, --only=c/,
                 --only=shm, --only=idle, --only=novalidate)
  --repeats=n    sessions per case and pinning mode (default 3; medians of medians are reported)
  --publish      also write the chart to bench/chart.svg (the committed copy the README shows)`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let help = false;
  let publish = false;
  let only: string[] = [];
  let repeats: number | undefined;
  for (const arg of argv) {
    if (arg === '--') continue;
    if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--publish') publish = true;
    else if (arg.startsWith('--only=')) only = arg.slice(7).split(',').filter(Boolean);
    else if (arg.startsWith('--repeats=')) {
      repeats = Number(arg.slice(10));
      if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a positive integer\n${USAGE}`);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { quick, only, repeats: repeats ?? (quick ? 1 : 3), publish, help };
}

/**
 * Whether `--only` selects a case, C baseline or idle check: a term must
 * start the id or one of its parts (after "/" or "-"), so `c/` picks the C
 * rows without also picking node-ipc/unix, and `unix` still picks
 * procwire/unix, raw/unix, node-ipc/unix and procwire/unix/novalidate.
 */
export function selects(only: readonly string[], id: string): boolean {
  return only.length === 0 || only.some((term) => id.startsWith(term) || id.includes(`/${term}`) || id.includes(`-${term}`));
}
