/**
 * The measuring process of one session: `client.ts '<SessionSpec JSON>'`.
 * The runner starts it (under `taskset -c 0` for a pinned session); it starts
 * the case's server as its own child, so the server inherits the same CPU
 * affinity, measures, prints one BENCH-RESULT line on stdout and exits.
 */
import type { BenchClient, OpenCase } from './cases/common.js';
import { allowedCpus, killAll } from './lib/children.js';
import { measureLatency, measureThroughput } from './lib/measure.js';
import { RESULT_PREFIX, type SessionResult, type SessionSpec } from './lib/session.js';
import type { LatencySummary } from './lib/stats.js';

/** Case id -> adapter, each imported on demand so a session loads only its own library. */
const OPENERS: Record<string, OpenCase> = {
  'procwire/unix': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'unix')),
  'procwire/tcp': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'tcp')),
  'procwire/socketpair': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'socketpair')),
  'procwire/pipe': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'pipe')),
  'procwire/fifo': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'fifo')),
  'procwire/mq': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'mq')),
  'procwire/shm': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'shm')),
  'procwire/shm-sleep': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'shm-sleep')),
  'procwire/unix/novalidate': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'unix', { validate: false })),
  'procwire/shm/novalidate': (spec) => import('./cases/procwire.js').then((m) => m.openProcwire(spec, 'shm', { validate: false })),
  'raw/unix': (spec) => import('./cases/raw.js').then((m) => m.openRaw(spec, 'unix')),
  'raw/tcp': (spec) => import('./cases/raw.js').then((m) => m.openRaw(spec, 'tcp')),
  'raw/socketpair': (spec) => import('./cases/raw.js').then((m) => m.openRaw(spec, 'socketpair')),
  'process.send/advanced': (spec) => import('./cases/processSend.js').then((m) => m.openProcessSend(spec, 'advanced')),
  'process.send/json': (spec) => import('./cases/processSend.js').then((m) => m.openProcessSend(spec, 'json')),
  'node-ipc/unix': (spec) => import('./cases/nodeIpc.js').then((m) => m.openNodeIpc(spec)),
  'birpc-msgpackr/unix': (spec) => import('./cases/birpc.js').then((m) => m.openBirpc(spec, 'msgpackr')),
  'birpc-json/unix': (spec) => import('./cases/birpc.js').then((m) => m.openBirpc(spec, 'json')),
};

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as SessionSpec;
  const open = OPENERS[spec.caseId];
  if (!open) throw new Error(`unknown case ${spec.caseId}`);
  let client: BenchClient | undefined;
  try {
    client = await open(spec);
    const latency: Record<number, LatencySummary> = {};
    for (const size of spec.sizes) latency[size] = await measureLatency(client, size, spec.latency);
    const throughput: SessionResult['throughput'] = {};
    // The rest of a cut-short burst is still arriving and would be counted by the next one.
    let clean = true;
    if (spec.throughput) {
      for (const size of spec.sizes) {
        const result = await measureThroughput(client, size, spec.throughput);
        throughput[size] = result;
        clean = result.complete;
        if (!clean) break;
      }
    }
    let bytes: SessionResult['bytes'];
    if (spec.bytes && clean) {
      const receiveBytes = client.receiveBytes?.bind(client);
      if (!receiveBytes) throw new Error(`${spec.caseId} has no binary payload test`);
      const result = await measureThroughput({ ...client, receiveBurst: receiveBytes }, spec.bytes.size, spec.bytes);
      bytes = { ...result, size: spec.bytes.size };
    }
    const result: SessionResult = {
      caseId: spec.caseId,
      pinned: spec.pinned,
      cpus: { client: allowedCpus(), server: client.serverPid ? allowedCpus(client.serverPid) : '?' },
      latency,
      throughput,
      bytes,
    };
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  } finally {
    await client?.close().catch(() => {});
    killAll();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench client failed: ${(error as Error)?.stack ?? String(error)}\n`);
    killAll();
    process.exit(1);
  },
);
