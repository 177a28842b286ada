import type { HandlerContext, PeerInfo } from '../contract/types.js';

/**
 * The `ctx` a handler receives. Its AbortController is made only when the
 * handler reads `ctx.signal`: most handlers never do, and creating one per
 * call would cost more than the rest of the dispatch.
 */
export class CallContext implements HandlerContext {
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private aborted = false;

  constructor(
    readonly peer: PeerInfo,
    readonly method: string,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get isAborted(): boolean {
    return this.aborted;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
