/**
 * Reaches a calc server at any endpoint URL. Every scheme is a plain
 * connect() except `socketpair:` and `pipe:`, whose server cannot exist
 * before its client: the client starts server.ts as its worker over an
 * inherited socketpair or pair of pipes, and closing the client stops it.
 */
import { connect, spawn, type Client } from 'procwire';
import { calc, type Calc } from './contract.js';

/** server.ts, resolved next to this file so the examples run from any cwd. */
const serverModule = new URL('./server.ts', import.meta.url);

export async function openCalc(url: string): Promise<Client<Calc>> {
  if (url === 'socketpair:' || url === 'pipe:') return spawn(calc, serverModule, { via: url, args: [url] });
  // waitMs: a script that launches server and client together may get here first.
  return connect(calc, url, { waitMs: 2000 });
}
