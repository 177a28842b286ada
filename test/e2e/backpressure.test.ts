import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { connect } from 'procwire';
import { DEFAULT_STREAM_WINDOW } from 'procwire/link';
import { calc } from '../fixtures/calc.js';
import { startServerProcess, tempSocketPath } from '../helpers/processes.js';

it('a reader taking one item per second keeps the producing server flat', async () => {
  const server = await startServerProcess(`unix://${tempSocketPath()}`);
  const client = await connect(calc, server.url);
  try {
    const before = await client.rpc.stats();
    // 64 KiB items from a generator that would produce forever.
    const iterator = client.stream.forever({ size: 64 * 1024 })[Symbol.asyncIterator]();
    const samples: number[] = [];
    for (let second = 0; second < 5; second++) {
      await iterator.next();
      await sleep(1000);
      samples.push((await client.rpc.stats()).rss);
    }
    const after = await client.rpc.stats();
    const produced = after.produced - before.produced;
    // Unbounded, the producer would have made tens of thousands of items (gigabytes).
    expect(produced).toBeLessThanOrEqual(5 + DEFAULT_STREAM_WINDOW + 1);
    const growthMb = (Math.max(...samples) - samples[0]!) / 2 ** 20;
    console.log(`server produced ${produced} items for 5 reads; RSS ${samples.map((s) => (s / 2 ** 20).toFixed(1)).join(' → ')} MiB`);
    expect(growthMb).toBeLessThan(8);
    await iterator.return!();
  } finally {
    await client.close();
    await server.kill();
  }
});
