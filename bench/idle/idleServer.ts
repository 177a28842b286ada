/**
 * Idle-check server: `idleServer.ts <url>`. Serves the bench channel and
 * otherwise does nothing: unlike the measuring servers it has no timer of
 * its own (exitWithParent polls twice a second), so any CPU it uses while
 * idle is procwire's. It exits when its stdin closes, which happens when
 * the runner is done with it or gone.
 */
import { serve } from 'procwire';
import { benchChannel } from '../lib/channel.js';

const url = process.argv[2];
if (!url) throw new Error('usage: idleServer.ts <url>');
const server = await serve(
  benchChannel,
  url,
  { echo: (payload) => payload, burst: () => 0, blobBurst: () => 0, blobs: async function* () {} },
  { validate: true },
);
process.stdin.once('end', () => process.exit(0));
process.stdin.resume();
process.stdout.write(`ready ${server.url}\n`);
