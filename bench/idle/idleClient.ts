/**
 * Idle-check client: `idleClient.ts <url>`. Connects, makes one call to
 * show the connection works, prints "ready" and then holds the connection
 * open without using it. Like the idle server, it has no timer of its own
 * and exits when its stdin closes.
 */
import { connect } from 'procwire';
import { benchChannel } from '../lib/channel.js';

const url = process.argv[2];
if (!url) throw new Error('usage: idleClient.ts <url>');
const client = await connect(benchChannel, url, { validate: true });
await client.rpc.echo({ i: 0, s: 'idle' });
process.stdin.once('end', () => process.exit(0));
process.stdin.resume();
process.stdout.write('ready\n');
