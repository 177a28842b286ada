/** How often a client checks on a silent server by default. */
export const DEFAULT_HEARTBEAT_MS = 1000;

export interface HeartbeatHooks {
  /** Send one `$/ping` request (its answer, like any frame, counts as heard). */
  ping(): void;
  /** No frame for `silentMs` (at least twice the heartbeat interval). */
  unresponsive(silentMs: number): void;
  /** A frame arrived again after `unresponsive`. */
  responsive(): void;
}

/**
 * Watches a connection for silence. The receive path only sets a flag per
 * run of frames; a timer at half the interval turns the flag into a time,
 * pings after one interval of silence and flags the peer after two, so a
 * stopped server is noticed within 2.5 intervals (3 s by default).
 */
export class Heartbeat {
  private heardSinceTick = true;
  private lastHeardAt = performance.now();
  private pingSentAt = -Infinity;
  private flagged = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly intervalMs: number,
    private readonly hooks: HeartbeatHooks,
  ) {
    this.timer = setInterval(() => this.tick(), Math.max(1, intervalMs / 2));
    this.timer.unref();
  }

  get responsive(): boolean {
    return !this.flagged;
  }

  /** Called for every run of frames received. */
  heard(): void {
    this.heardSinceTick = true;
    if (this.flagged) {
      this.flagged = false;
      this.lastHeardAt = performance.now();
      this.hooks.responsive();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    if (this.heardSinceTick) {
      this.heardSinceTick = false;
      this.lastHeardAt = now;
      return;
    }
    const silent = now - this.lastHeardAt;
    if (silent >= this.intervalMs && now - this.pingSentAt >= this.intervalMs) {
      this.pingSentAt = now;
      this.hooks.ping();
    }
    if (silent >= 2 * this.intervalMs && !this.flagged) {
      this.flagged = true;
      this.hooks.unresponsive(Math.round(silent));
    }
  }
}
