/**
 * The calc server: `tsx examples/calc/server.ts <url>`.
 *
 * Prints "calc server listening on <url> (pid N)" on stdout once clients can connect
 * (with the real port for tcp://host:0; scripts wait for this line). Other
 * messages go to stderr. Started by spawn() it serves its parent over
 * `socketpair:` and exits when the parent closes it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, type Server } from 'procwire';
import { exitWithError } from './cli.js';
import { calc, type Calc } from './contract.js';

// A worker started by spawn() is told its endpoint in PROCWIRE_ENDPOINT.
const url = process.argv[2] ?? process.env.PROCWIRE_ENDPOINT;
if (!url) {
  process.stderr.write('usage: tsx examples/calc/server.ts <url>   (unix:///tmp/calc.sock, unix:@calc, tcp://127.0.0.1:0)\n');
  process.exit(2);
}

const log = (message: string) => process.stderr.write(`[calc server ${process.pid}] ${message}\n`);

const server: Server<Calc> = await serve(calc, url, {
  add: ({ a, b }) => a + b,
  sleep: async ({ ms }, { signal }) => {
    // The signal aborts when the caller times out, cancels or disconnects,
    // so abandoned work stops here instead of running to the end.
    try {
      await sleep(ms, undefined, { signal });
    } catch (error) {
      if (signal.aborted) log(`sleep(${ms}) stopped early: ${(signal.reason as Error).message}`);
      throw error;
    }
    return 'done' as const;
  },
  count: function* ({ to }) {
    for (let i = 0; i < to; i++) yield i;
  },
}).catch(exitWithError);

let n = 0;
const ticker = setInterval(() => server.emit('tick', { n: n++, at: Date.now() }), 1000);

// SIGINT and SIGTERM are handled by procwire: running calls get a grace
// period, the socket file is removed, and the process ends by the signal.
// A socketpair server also closes when its parent does.
void server.closed.then(() => {
  log('closed');
  clearInterval(ticker);
});

if (url === 'socketpair:' || url === 'pipe:') log(`serving parent ${process.ppid} over ${url}`);
else process.stdout.write(`calc server listening on ${server.url} (pid ${process.pid})\n`);
