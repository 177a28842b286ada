/**
 * What the probe client (client.ts) reports to the tour: one JSON line on
 * its stdout. The tour reads it from another process, so it is plain data.
 */
export interface ProbeReport {
  /** Set when the client could not reach the server at all. */
  error?: string;
  checks: { rpc: CheckResult; stream: CheckResult; event: CheckResult };
  /** Round trip of one small call, in microseconds; absent when not measured. */
  latency?: { p50: number; p99: number; calls: number };
}

/** true when the check passed, otherwise why it failed. */
export type CheckResult = true | string;

export const CHECK_NAMES = ['rpc', 'stream', 'event'] as const;

/** The report is the last stdout line that parses as one (other output may come first). */
export function findReport(stdout: string): ProbeReport | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as ProbeReport;
    } catch {
      // not the report; keep looking
    }
  }
  return undefined;
}
