/**
 * procwire server process: `procwireServer.ts <url> [novalidate]`. Serves
 * the bench channel with validation on (off with `novalidate`); prints
 * "ready <url>" once listening (for socketpair: and pipe: its parent learns
 * that from the handshake instead).
 */
import { serve, type Server } from 'procwire';
import { sendBlobBurst, sendBurst } from '../lib/burst.js';
import { makeBlob } from '../lib/payload.js';
import { benchChannel } from '../lib/channel.js';
import { exitWithParent } from '../lib/children.js';

exitWithParent();
const url = process.argv[2] ?? 'socketpair:';
const validate = process.argv[3] !== 'novalidate';
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
    blobs: async function* ({ count, size }) {
      const message = makeBlob(size);
      for (let i = 0; i < count; i++) {
        message.i = i;
        yield message;
      }
    },
    blobBurst: ({ count, size }) => {
      void sendBlobBurst(count, size, (blob) => server!.emit('blob', blob));
      return count;
    },
  },
  { validate },
);
if (url !== 'socketpair:' && url !== 'pipe:') process.stdout.write(`ready ${server.url}\n`);
