/**
 * The calling side of one soak run: `client.ts <json plan>` (soak/protocol.ts),
 * started by soak/main.ts with an IPC channel.
 *
 * 1. one warm-up connection (or worker) with one call, closed, then this
 *    process's baseline snapshot (descriptors, handles, mapped segments);
 * 2. connects its clients (or spawns the worker) and sends 'connected'
 *    (with the worker's pid);
 * 3. on 'go', keeps `inFlight` calls pending per connection until `calls`
 *    have completed, checking every reply; sends 'progress' as it goes and
 *    answers 'done'; on 'gc' (while the calls run), answers RSS and heap
 *    after a full collection, its own and the worker's;
 * 4. on 'close', closes everything (a worker must exit), waits until this
 *    process is back at its baseline (or 5 s passed) and answers 'closed'
 *    with both snapshots.
 */
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, ProcwireError, spawn, type Client, type Worker } from 'procwire';
import { calc } from '../test/fixtures/calc.js';
import { answerRequests, reportFatal } from '../test/helpers/loadIpc.js';
import { collectGarbage, selfSnapshotBackTo, stableSelfSnapshot, type ProcessSnapshot } from '../test/helpers/loadStats.js';
import { memoryFigures, soakInput, type MemoryFigures, type SoakClientPlan, type SoakClientResult } from './protocol.js';

const WORKER = fileURLToPath(new URL('../test/fixtures/loadWorker.ts', import.meta.url));
const plan = JSON.parse(process.argv[2] ?? '') as SoakClientPlan;

let worker: Worker<typeof calc> | undefined;
let clients: Array<Client<typeof calc>> = [];
let baseline: ProcessSnapshot | undefined;
let workerLines: Interface | undefined;

async function open(): Promise<void> {
  const { target } = plan;
  if ('via' in target) {
    worker = await spawn(calc, WORKER, { via: target.via, stdio: 'pipe' });
    worker.process.stderr!.pipe(process.stderr);
    workerLines = createInterface({ input: worker.process.stdout! });
    clients = [worker];
  } else {
    clients = await Promise.all(Array.from({ length: plan.clients }, () => connect(calc, target.url, { waitMs: 5000 })));
  }
}

/** The spawned worker's pid (a function: `open()` replaces the worker, which flow analysis cannot see). */
const workerPid = (): number | undefined => worker?.process.pid;

async function closeAll(): Promise<{ code: number | null; signal: string | null } | undefined> {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  workerLines?.close();
  workerLines = undefined;
  return worker ? await worker.exited : undefined;
}

/** RSS and heap after a full collection, here and in the spawned worker (loadWorker.ts answers SIGUSR2). */
async function afterCollection(): Promise<{ self: MemoryFigures; worker?: MemoryFigures }> {
  await collectGarbage();
  const self = memoryFigures();
  if (!worker || !workerLines) return { self };
  const answer = once(workerLines, 'line');
  worker.process.kill('SIGUSR2');
  const [line] = (await answer) as [string];
  return { self, worker: JSON.parse(line.replace(/^gc /, '')) as MemoryFigures };
}

async function run(): Promise<SoakClientResult> {
  const result = { ok: 0, wrong: 0, errors: 0, errorSamples: [] as string[], ms: 0 };
  const lanesPerClient = worker ? plan.clients * plan.inFlight : plan.inFlight;
  const lanes = clients.flatMap((client) => Array.from({ length: lanesPerClient }, () => client));
  // Calls are handed out one by one, so every lane stays busy to the end.
  let next = 0;
  const progress = setInterval(() => process.send!({ type: 'progress', done: result.ok + result.wrong + result.errors }), plan.progressMs);
  const started = performance.now();
  await Promise.all(
    lanes.map(async (client) => {
      while (next < plan.calls) {
        const input = soakInput(next++);
        try {
          if ((await client.rpc.add(input)) === input.a + input.b) result.ok++;
          else result.wrong++;
        } catch (error) {
          result.errors++;
          if (result.errorSamples.length < 5) {
            result.errorSamples.push(error instanceof ProcwireError ? `${error.code}: ${error.message}` : String(error));
          }
        }
      }
    }),
  );
  result.ms = performance.now() - started;
  clearInterval(progress);
  return result;
}

// Listening before the baseline: the IPC channel's listeners decide whether it holds the event loop.
answerRequests(async (message) => {
  switch (message.type) {
    case 'go':
      return { type: 'done', result: await run() };
    case 'gc':
      return { type: 'gc', ...(await afterCollection()) };
    case 'close': {
      const workerExit = await closeAll();
      const after = await selfSnapshotBackTo(baseline!);
      setImmediate(() => process.disconnect());
      return { type: 'closed', baseline, after, workerExit };
    }
    default:
      throw new Error(`unknown request ${message.type}`);
  }
});
process.once('disconnect', () => void closeAll());

try {
  await open();
  await clients[0]!.rpc.add(soakInput(0));
  const warmExit = await closeAll();
  if (warmExit && warmExit.code !== 0) throw new Error(`the warm-up worker exited with ${warmExit.code ?? warmExit.signal}`);
  worker = undefined;
  baseline = await stableSelfSnapshot();
  await open();
  process.send!({ type: 'connected', workerPid: workerPid() });
} catch (error) {
  reportFatal(error);
}
