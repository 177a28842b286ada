import type { ChildProcess } from 'node:child_process';
import type { FrameLimits, Link } from '@procwire/core';

/**
 * How a transport connects a parent to a worker it spawns: which descriptors
 * the worker inherits (as fd 3, 4, ...), what the worker is told in its
 * environment, and the parent's side of the link once the worker runs.
 */
export interface WorkerWiring {
  /** Extra stdio entries after stdin, stdout and stderr. */
  readonly stdio: Array<'pipe' | number>;
  /** Environment variables that tell the worker where its end is. */
  readonly env: Record<string, string>;
  /** The parent's link, built once the worker has been started. */
  parentLink(child: ChildProcess, limits: Partial<FrameLimits> | undefined): Link;
  /** Releases what the parent made for the worker and no longer needs (its ends of pipes). */
  afterSpawn(): void;
  /** Releases everything when the worker could not be started. */
  abandon(): void;
}

/** The first descriptor after stdin, stdout and stderr. */
export const FIRST_WORKER_FD = 3;
