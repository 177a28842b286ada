/**
 * How late this process's event loop runs, measured by a 5 ms ticker. On a
 * busy machine a process may wait for a CPU; every event it reacts to is late
 * by as much, whatever the transport does. Tests that hold a latency promise
 * allow for that lateness instead of failing by chance.
 */
export interface LoopLag {
  /** Stops the ticker; the worst lateness seen (ms), including the ticker's last, unfinished wait. */
  stop(): number;
}

export function watchLoopLag(): LoopLag {
  let worst = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(ticker);
      return Math.max(worst, performance.now() - last - 5, 0);
    },
  };
}
