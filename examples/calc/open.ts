/**
 * Reaches a calc server at any endpoint URL. Every scheme is a plain
 * connect() except `socketpair:`, whose server cannot exist before its
 * client: the client starts server.ts as its worker over an inherited
 * socketpair, and closing the client stops the worker.
 */
import { connect, spawn, type Client } from 'procwire';
import { calc, type Calc } from './contract.js';

/** server.ts, resolved next to this file so the examples run from any cwd. */
const serverModule = new URL('./server.ts', import.meta.url);

export async function openCalc(url: string): Promise<Client<Calc>> {
  if (url === 'socketpair:') return spawn(calc, serverModule, { via: 'socketpair:', args: ['socketpair:'] });
  // waitMs: a script that launches server and client together may get here first.
  return connect(calc, url, { waitMs: 2000 });
}
