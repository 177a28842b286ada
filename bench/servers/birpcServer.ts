/**
 * birpc 4.2 server: `birpcServer.ts <socket path> <msgpackr|json>`. One birpc
 * instance per connection, carried as in lib/birpcWire.ts.
 */
import { createServer } from 'node:net';
import { createBirpc } from 'birpc';
import { birpcOverSocket, type BirpcClientFunctions, type BirpcCodec, type BirpcServerFunctions } from '../lib/birpcWire.js';
import { sendBurst } from '../lib/burst.js';
import { exitWithParent } from '../lib/children.js';

exitWithParent();
const path = process.argv[2]!;
const codec = (process.argv[3] ?? 'msgpackr') as BirpcCodec;
const server = createServer((socket) => {
  const rpc = createBirpc<BirpcClientFunctions, BirpcServerFunctions>(
    {
      echo: (payload) => payload,
      burst: (count, size) => {
        void sendBurst(count, size, (payload) => void rpc.$callEvent('tick', payload));
        return count;
      },
    },
    birpcOverSocket(socket, codec),
  );
});
server.listen(path, () => process.stdout.write(`ready ${path}\n`));
