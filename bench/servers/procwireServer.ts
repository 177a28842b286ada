/**
 * procwire server process: `procwireServer.ts <url>`. Serves the bench
 * channel with validation on; prints "ready <url>" once listening (for
 * socketpair: its parent learns that from the handshake instead).
 */
import { serve, type Server } from 'procwire';
import { sendBurst } from '../lib/burst.js';
import { benchChannel } from '../lib/channel.js';
import { exitWithParent } from '../lib/children.js';

exitWithParent();
const url = process.argv[2] ?? 'socketpair:';
let server: Server<typeof benchChannel> | undefined;
server = await serve(
  benchChannel,
  url,
  {
    echo: (payload) => payload,
    burst: ({ count, size }) => {
      // Not awaited: the burst goes on over later turns of the event loop while
      // the client counts ticks; the answer only says the burst has started.
      void sendBurst(count, size, (payload) => server!.emit('tick', payload));
      return count;
    },
  },
  { validate: true },
);
if (url !== 'socketpair:' && url !== 'pipe:') process.stdout.write(`ready ${server.url}\n`);
