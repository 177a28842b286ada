/**
 * One row of the tour: a real server process and a real client process for
 * one transport entry, and every way that can fail turned into a reason.
 */
import { existsSync, readdirSync } from 'node:fs';
import { startTs, type TsProcess } from './processes.js';
import { CHECK_NAMES, findReport, type ProbeReport } from './report.js';
import type { TransportEntry } from './transports.js';

const calcServer = new URL('../calc/server.ts', import.meta.url);
const probeClient = new URL('./client.ts', import.meta.url);

const SERVER_READY_MS = 15_000;
const CLIENT_DONE_MS = 25_000;
const SERVER_STOP_MS = 3_000;

export interface Row {
  readonly name: string;
  readonly endpoint: string;
  /** Empty when the row passed. */
  readonly failures: string[];
  readonly report?: ProbeReport;
}

/** `dir` is an empty directory of the row's own; `deadline` bounds the whole row (ms since epoch). */
export async function runEntry(entry: TransportEntry, dir: string, deadline: number): Promise<Row> {
  const failures: string[] = [];
  const within = (ms: number) => Math.max(0, Math.min(ms, deadline - Date.now()));
  let url = entry.endpoint(dir);
  let endpoint = entry.launch === 'worker' ? `${url} (worker of the client)` : url;
  let server: TsProcess | undefined;
  let report: ProbeReport | undefined;
  try {
    if (entry.launch === 'server') {
      server = startTs(calcServer, [url]);
      // The server prints its real URL: tcp://127.0.0.1:0 becomes a port.
      url = endpoint = (await server.waitFor(/listening on (\S+)/, within(SERVER_READY_MS)))[1]!;
    }
    const client = startTs(probeClient, [url]);
    const exit = await client.waitExit(within(CLIENT_DONE_MS)).catch(async (error: Error) => {
      failures.push(`client ${error.message}`);
      return client.stop(0);
    });
    report = findReport(client.stdout());
    if (!report) {
      failures.push(`client printed no report (exit ${exit.code ?? exit.signal}): ${client.stderrTail()}`);
    } else {
      if (report.error) failures.push(report.error);
      for (const name of CHECK_NAMES) if (report.checks[name] !== true && !report.error) failures.push(`${name}: ${report.checks[name]}`);
    }
  } catch (error) {
    failures.push(`server ${(error as Error).message}: ${server?.stderrTail() ?? ''}`);
  } finally {
    if (server) {
      // A server must stop cleanly on SIGTERM: procwire drains it, then the
      // process ends by SIGTERM, the conventional way (a shell reports 143).
      const exit = await server.stop(SERVER_STOP_MS);
      const clean = exit.signal === 'SIGTERM' || exit.code === 0;
      if (!clean && failures.length === 0) {
        failures.push(`server ended with ${exit.code ?? exit.signal} on SIGTERM: ${server.stderrTail()}`);
      }
    }
    const leftovers = [...readdirSync(dir), ...(entry.leftovers?.(url) ?? []).filter((name) => existsSync(name))];
    if (leftovers.length > 0) failures.push(`left behind after the server stopped: ${leftovers.join(', ')}`);
  }
  return { name: entry.name, endpoint, failures, report };
}
