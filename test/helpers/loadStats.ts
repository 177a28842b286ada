import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { fdCount, fdTargets, rssBytes as procRssBytes } from './procStats.js';

/**
 * What Linux says about a process (by pid, from /proc), and what Node says
 * about this one: the figures load, churn and soak runs compare before and
 * after. Reading /proc from outside needs no cooperation from the process,
 * so a server can be measured while it is busy.
 */

/** Open file descriptors of `pid` (procStats.ts reads them the same way for the fault tests). */
export const openFdCount = (pid: number = process.pid): number => fdCount(pid);

/** What each open descriptor of `pid` points at, inode numbers left out so two snapshots compare by kind, sorted. */
function openFdTargets(pid: number = process.pid): string[] {
  return fdTargets(pid)
    .map((entry) => entry.replace(/^\d+ -> /, '').replace(/\[\d+\]$/, '[]'))
    .sort();
}

function statusField(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) * 1024;
}

/** Resident set size of `pid` in bytes. */
export const rssBytes = (pid: number = process.pid): number => procRssBytes(pid);

/** Highest resident set size `pid` has had, in bytes (VmHWM). */
function peakRssBytes(pid: number = process.pid): number {
  return statusField(pid, 'VmHWM');
}

/**
 * Mappings of procwire's shared-memory segments in `pid` (memfds named
 * "procwire-shm"): a segment nobody unmapped shows here even though it has
 * no name anywhere in the file system.
 */
function shmSegmentMappings(pid: number = process.pid): number {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((line) => line.includes('/memfd:procwire-shm')).length;
}

/** Node's active handles and requests by kind (TCPWrap, PipeWrap, Timeout, FSReqCallback, ...). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** procwire's private runtime directory: `<XDG_RUNTIME_DIR or tmpdir>/procwire-<uid>`. */
function runtimeDir(): string {
  return join(process.env.XDG_RUNTIME_DIR || tmpdir(), `procwire-${process.getuid!()}`);
}

/** The entries of `dir` (none when it does not exist), sorted. */
export function dirEntries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * The entries named after `name` in every place a procwire endpoint leaves
 * names: /dev/shm, /dev/mqueue, the runtime directory and `extraDirs` (a
 * fifo's directory). Other test files running at the same time create their
 * own names there, so only entries that contain this endpoint's unique name
 * can be attributed to it.
 */
export function namedEntries(name: string, extraDirs: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const dir of ['/dev/shm', '/dev/mqueue', runtimeDir(), ...extraDirs]) {
    for (const entry of dirEntries(dir)) if (entry.includes(name)) found.push(join(dir, entry));
  }
  return found.sort();
}

function heapFigures(): { heapUsed: number; heapTotal: number; external: number } {
  const { heapUsed, heapTotal, external } = process.memoryUsage();
  return { heapUsed, heapTotal, external };
}

/** What a process reports about itself for before/after comparisons. */
export interface ProcessSnapshot {
  readonly pid: number;
  readonly fds: number;
  readonly fdTargets: string[];
  readonly resources: Record<string, number>;
  readonly rss: number;
  readonly peakRss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Memory of ArrayBuffers and other objects V8 does not hold itself (buffers, native handles). */
  readonly external: number;
  readonly shmMappings: number;
  /** server.stats.connections, when the process is a server. */
  readonly connections?: number;
}

/**
 * A full garbage collection, then another after `settleMs`: V8 hands the
 * pages it freed back to the kernel from background threads, so RSS read
 * right after one collection still counts some of them.
 */
export async function collectGarbage(settleMs = 100): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await sleep(settleMs);
  gc?.();
}

/** Takes this process's snapshot, after a full garbage collection when `global.gc` is exposed. */
export function snapshotSelf(connections?: number): ProcessSnapshot {
  (globalThis as { gc?: () => void }).gc?.();
  return {
    pid: process.pid,
    fds: openFdCount(),
    fdTargets: openFdTargets(),
    resources: activeResources(),
    rss: rssBytes(),
    peakRss: peakRssBytes(),
    ...heapFigures(),
    shmMappings: shmSegmentMappings(),
    ...(connections === undefined ? {} : { connections }),
  };
}

/** The fields that must come back to their baseline once every connection is closed. */
export function settledView(s: ProcessSnapshot): {
  fds: number;
  resources: Record<string, number>;
  shmMappings: number;
  connections?: number;
} {
  return {
    fds: s.fds,
    resources: s.resources,
    shmMappings: s.shmMappings,
    ...(s.connections === undefined ? {} : { connections: s.connections }),
  };
}

/**
 * This process's snapshot once two readings 50 ms apart agree (or `maxMs`
 * passed): a connection just closed keeps its handle listed until its close
 * callback has run.
 */
export async function stableSelfSnapshot(maxMs = 5000): Promise<ProcessSnapshot> {
  const deadline = Date.now() + maxMs;
  let previous = snapshotSelf();
  for (;;) {
    await sleep(50);
    const now = snapshotSelf();
    if (isDeepStrictEqual(settledView(now), settledView(previous)) || Date.now() > deadline) return now;
    previous = now;
  }
}

/** This process's snapshot once it is back at `baseline` (or `maxMs` passed: then the difference shows). */
export async function selfSnapshotBackTo(baseline: ProcessSnapshot, maxMs = 5000): Promise<ProcessSnapshot> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const now = snapshotSelf();
    if (isDeepStrictEqual(settledView(now), settledView(baseline)) || Date.now() > deadline) return now;
    await sleep(50);
  }
}

const MB = 1_000_000;
export const formatMB = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
