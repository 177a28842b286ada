import { availableParallelism } from 'node:os';
import type { ShmLink } from './link.js';

/**
 * How a shm: link waits for its peer. `spin`: poll the ring for up to
 * `spinMicros` after the last data moved, then sleep (lowest latency, costs
 * CPU while it spins). Otherwise sleep at once: the peer rings an eventfd
 * (lowest CPU; an idle connection costs nothing).
 */
export interface WaitPolicy {
  readonly spin: boolean;
  readonly spinMicros: number;
}

export const DEFAULT_SPIN_MICROS = 50;
export const MAX_SPIN_MICROS = 1_000_000;
/** The longest one turn of the spinner holds the event loop. */
const SPIN_SLICE_MICROS = 50;

/**
 * `auto` (the default) spins only when this process may run on more than one
 * CPU: on a single CPU the peer cannot run while we spin, so spinning only
 * delays it.
 */
export function resolveWaitPolicy(wait: 'spin' | 'sleep' | 'auto', spinMicros: number): WaitPolicy {
  const oneCpu = availableParallelism() === 1;
  const spin = wait === 'spin' || (wait === 'auto' && !oneCpu);
  return { spin: spin && spinMicros > 0, spinMicros };
}

/**
 * The process's one spinner: every spinning link of the process is polled by
 * the same setImmediate turn, so many connections cost one poll loop, and
 * other I/O, timers and microtasks run between turns. A turn ends as soon as
 * any link has work (its frames are then processed and the promises they
 * settle run before the next turn) or after at most SPIN_SLICE_MICROS.
 */
class Spinner {
  private readonly links = new Set<ShmLink>();
  private scheduled = false;

  add(link: ShmLink): void {
    this.links.add(link);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.turn);
    }
  }

  remove(link: ShmLink): void {
    this.links.delete(link);
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    if (this.links.size === 0) return;
    const now = performance.now();
    let slice = SPIN_SLICE_MICROS;
    for (const link of this.links) {
      const left = link.waitPolicy.spinMicros - (now - link.lastActive) * 1000;
      if (left <= 0 && !link.hasWork()) {
        this.links.delete(link);
        link.sleep();
      } else {
        slice = Math.min(slice, Math.max(1, Math.ceil(left)));
      }
    }
    if (this.links.size === 0) return;
    const ready = this.wait(slice);
    for (const link of ready) {
      this.links.delete(link);
      link.service();
    }
    if (this.links.size > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.turn);
    }
  };

  /** Busy-waits up to `micros` until some links have work; returns them. */
  private wait(micros: number): ShmLink[] {
    if (this.links.size === 1) {
      const [link] = this.links;
      return link!.spinOnce(micros) ? [link!] : [];
    }
    const deadline = performance.now() + micros / 1000;
    const ready: ShmLink[] = [];
    do {
      for (const link of this.links) if (link.hasWork()) ready.push(link);
    } while (ready.length === 0 && performance.now() < deadline);
    return ready;
  }
}

export const spinner = new Spinner();
