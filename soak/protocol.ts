/** What soak/main.ts asks of a soak client process (soak/client.ts) and what it answers. */

export type SoakTarget = { readonly url: string } | { readonly via: 'socketpair:' | 'pipe:' };

export interface SoakClientPlan {
  readonly target: SoakTarget;
  /** Connections to the server (a spawned worker is always one connection). */
  readonly clients: number;
  /** Calls pending at once per connection; a spawned worker gets clients x inFlight on its one connection. */
  readonly inFlight: number;
  readonly calls: number;
  /** How often the client reports how many calls have completed. */
  readonly progressMs: number;
}

/** A process's memory right after a full garbage collection. */
export interface MemoryFigures {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

/** This process's memory figures now (call after a collection). */
export function memoryFigures(): MemoryFigures {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

export interface SoakClientResult {
  readonly ok: number;
  readonly wrong: number;
  readonly errors: number;
  readonly errorSamples: string[];
  readonly ms: number;
}

/**
 * The input of call `i`: its sum (3i + 0.5) belongs to no other call, so a
 * reply that reaches the wrong caller is caught; exact in a double far
 * beyond any run's length.
 */
export function soakInput(i: number): { a: number; b: number } {
  return { a: i, b: i * 2 + 0.5 };
}
