/**
 * Compiles the C baselines (bench/c/*.c) with `cc -O2` into a private
 * temporary directory at the start of a run. Every machine this runs on has
 * gcc, but a build that fails must not end the run: the program's rows are
 * then reported as not measured, with the compiler's reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCES = fileURLToPath(new URL('../c/', import.meta.url));
/** gnu11 for the Linux APIs (sched_getaffinity, futex); -O2 as the issue states the C rows. */
const FLAGS = ['-O2', '-std=gnu11', '-Wall', '-Wextra'];

export interface CBuild {
  /** Program name -> executable. */
  readonly binaries: ReadonlyMap<string, string>;
  /** Program name -> why it could not be built. */
  readonly failures: ReadonlyMap<string, string>;
  /** Removes the build directory. */
  remove(): void;
}

export function buildCPrograms(programs: readonly string[]): CBuild {
  const binaries = new Map<string, string>();
  const failures = new Map<string, string>();
  const dir = mkdtempSync(join(tmpdir(), 'procwire-bench-c-'));
  const compiler = process.env.CC || 'cc';
  for (const name of new Set(programs)) {
    const out = join(dir, name);
    const result = spawnSync(compiler, [...FLAGS, '-o', out, join(SOURCES, `${name}.c`)], { encoding: 'utf8', timeout: 60_000 });
    if (result.error) {
      failures.set(name, `${compiler} could not run: ${result.error.message}`);
    } else if (result.status !== 0) {
      const why = (result.stderr || result.stdout)
        .trim()
        .split('\n')
        .filter((l) => /error|fatal/i.test(l))
        .slice(0, 3)
        .join('; ');
      failures.set(name, `${compiler} ${FLAGS.join(' ')} ${name}.c failed (${result.status ?? result.signal}): ${why || 'no message'}`);
    } else {
      binaries.set(name, out);
    }
  }
  return { binaries, failures, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
