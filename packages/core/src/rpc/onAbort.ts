/**
 * Runs `callback` when `signal` aborts; the returned function stops that.
 *
 * Applications share one AbortSignal among many calls and streams (one per
 * request, one per shutdown). A listener per call would put hundreds on one
 * signal and make Node warn of a leak (MaxListenersExceededWarning) past 10,
 * so procwire adds at most one listener to any signal and fans the abort out
 * to its own callbacks; that listener goes once no callback is left.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let fanout = fanouts.get(signal);
  if (!fanout) {
    fanout = new Fanout(signal);
    fanouts.set(signal, fanout);
  }
  return fanout.add(callback);
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

class Fanout {
  /** One token per registration, so one function registered twice runs twice. */
  private readonly callbacks = new Set<{ readonly run: () => void }>();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.fire, { once: true });
  }

  add(run: () => void): () => void {
    const token = { run };
    this.callbacks.add(token);
    return () => {
      if (!this.callbacks.delete(token) || this.callbacks.size > 0) return;
      this.signal.removeEventListener('abort', this.fire);
      fanouts.delete(this.signal);
    };
  }

  private readonly fire = (): void => {
    fanouts.delete(this.signal);
    const callbacks = [...this.callbacks];
    this.callbacks.clear();
    for (const { run } of callbacks) {
      try {
        run();
      } catch (error) {
        // One failing callback must not keep the others from their abort.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
}
