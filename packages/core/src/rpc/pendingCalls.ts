import type { Route } from './routes.js';

/** A caller's request awaiting its response. */
export interface PendingCall {
  readonly kind: 'call';
  resolve(value: unknown): void;
  reject(error: unknown): void;
  readonly route: Route;
  timer: NodeJS.Timeout | undefined;
  /** Stops listening to the caller's AbortSignal. */
  removeAbortListener: (() => void) | undefined;
}

/** A heartbeat ping awaiting its answer: any answer is a sign of life, and its result is never read. */
interface PendingPing {
  readonly kind: 'ping';
}

export type PendingEntry = PendingCall | PendingPing;

/**
 * Requests awaiting their response, by msgid. Heartbeat pings are kept here
 * too, so their ids are not reused while they wait, but they count against
 * no caller's limit.
 */
export class PendingTable {
  private readonly entries = new Map<number, PendingEntry>();
  private pings = 0;

  /** The caller's calls waiting (pings aside). */
  get calls(): number {
    return this.entries.size - this.pings;
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  add(id: number, entry: PendingEntry): void {
    this.entries.set(id, entry);
    if (entry.kind === 'ping') this.pings++;
  }

  /** Removes the entry for `id`, its timer and abort listener with it. */
  take(id: number): PendingEntry | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (entry.kind === 'ping') {
      this.pings--;
      return entry;
    }
    if (entry.timer) clearTimeout(entry.timer);
    entry.removeAbortListener?.();
    return entry;
  }

  /** Takes every entry: calls reject with `error`, pings are dropped. */
  rejectAll(error: unknown): void {
    for (const id of [...this.entries.keys()]) {
      const entry = this.take(id);
      if (entry?.kind === 'call') entry.reject(error);
    }
  }
}
