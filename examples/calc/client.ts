/**
 * The calc client: `tsx examples/calc/client.ts <url>`. Walks through what a
 * channel offers: an rpc call, a stream, an event, and the two errors every
 * caller should expect (TIMEOUT and CANCELLED). For `socketpair:` it starts
 * server.ts itself, as its worker.
 */
import { ProcwireError } from 'procwire';
import { exitWithError } from './cli.js';
import { openCalc } from './open.js';

const url = process.argv[2];
if (!url) {
  process.stderr.write("usage: tsx examples/calc/client.ts <url>   (the server's URL, or socketpair:)\n");
  process.exit(2);
}

/** The error code a call failed with; calls are expected to fail here. */
async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'no error (unexpected)';
  } catch (error) {
    if (error instanceof ProcwireError) return `${error.code} (${error.message})`;
    throw error;
  }
}

const client = await openCalc(url).catch(exitWithError);
try {
  // Subscribe first: events are not queued for listeners that come later.
  const tick = new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('none within 3 s'), 3000);
    client.once('tick', ({ n, at }) => {
      clearTimeout(timer);
      resolve(`#${n}, sent ${Date.now() - at} ms ago`);
    });
  });

  console.log(`connected to ${url}`);
  console.log(`add(2, 3)       = ${await client.rpc.add({ a: 2, b: 3 })}`);

  const counted: number[] = [];
  for await (const i of client.stream.count({ to: 5 })) counted.push(i);
  console.log(`count({to: 5})  = [${counted.join(', ')}]`);

  console.log(`tick event      = ${await tick}`);

  // A 1 s sleep with a 100 ms timeout: the call rejects, the handler is stopped.
  console.log(`timeout         = ${await codeOf(client.rpc.sleep({ ms: 1000 }, { timeoutMs: 100 }))}`);

  const abort = new AbortController();
  setTimeout(() => abort.abort(), 100);
  console.log(`cancel          = ${await codeOf(client.rpc.sleep({ ms: 1000 }, { signal: abort.signal }))}`);
} catch (error) {
  await client.close();
  exitWithError(error);
}
await client.close();
