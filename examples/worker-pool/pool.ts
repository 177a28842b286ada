/**
 * A pool of worker processes started with spawn() over `socketpair:`.
 *
 * - Jobs wait in the parent's queue and go to the least busy live worker,
 *   at most `perWorker` at a time: a CPU-bound worker cannot run two jobs at
 *   once, and a job still queued here can go to whichever worker frees up
 *   first (or survive a crash untouched).
 * - A worker that dies is replaced. Its in-flight jobs failed with PEER_GONE
 *   and are queued again, up to `maxAttempts` runs per job.
 * - close() lets queued and running jobs finish, then stops every worker.
 */
import { ErrorCode, ProcwireError, spawn, type Channel, type Client, type Worker } from 'procwire';

export interface PoolOptions {
  readonly size: number;
  /** Jobs one worker runs at the same time (default 1). */
  readonly perWorker?: number;
  /** Runs per job, counting retries after a worker died (default 3). */
  readonly maxAttempts?: number;
  /** Replacement workers the pool may start in all (default 10), so a worker that always crashes cannot loop forever. */
  readonly maxRestarts?: number;
  /** Where the pool reports crashes and restarts (default: stderr). */
  readonly log?: (message: string) => void;
}

export interface SlotStats {
  readonly pid: number | undefined;
  readonly inFlight: number;
  readonly done: number;
  readonly restarts: number;
}

type Task<C extends Channel<any>, T> = (worker: Client<C>) => Promise<T>;

interface Job<C extends Channel<any>> {
  readonly task: Task<C, unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  attempts: number;
}

interface Slot<C extends Channel<any>> {
  readonly index: number;
  worker: Worker<C> | undefined;
  starting: Promise<void> | undefined;
  inFlight: number;
  done: number;
  restarts: number;
}

export class WorkerPool<C extends Channel<any>> {
  private readonly slots: Slot<C>[];
  private readonly queue: Job<C>[] = [];
  private readonly perWorker: number;
  private readonly maxAttempts: number;
  private readonly log: (message: string) => void;
  private restartsLeft: number;
  private closing: Promise<void> | undefined;
  private onIdle: (() => void) | undefined;

  private constructor(
    private readonly channel: C,
    private readonly module: string | URL,
    options: PoolOptions,
  ) {
    this.slots = Array.from({ length: options.size }, (_, index) => ({
      index,
      worker: undefined,
      starting: undefined,
      inFlight: 0,
      done: 0,
      restarts: 0,
    }));
    this.perWorker = options.perWorker ?? 1;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.restartsLeft = options.maxRestarts ?? 10;
    this.log = options.log ?? ((message) => process.stderr.write(`[pool] ${message}\n`));
  }

  /** Starts `size` workers running `module`; resolves when all of them answer. */
  static async start<C extends Channel<any>>(channel: C, module: string | URL, options: PoolOptions): Promise<WorkerPool<C>> {
    const pool = new WorkerPool(channel, module, options);
    try {
      await Promise.all(pool.slots.map((slot) => pool.startWorker(slot)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Queues `task`; it is called with a worker's client when one is free. */
  run<T>(task: Task<C, T>): Promise<T> {
    if (this.closing) return Promise.reject(new ProcwireError(ErrorCode.CLOSED, 'the pool is closing'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task, resolve: resolve as (value: unknown) => void, reject, attempts: 0 });
      this.dispatch();
    });
  }

  stats(): SlotStats[] {
    return this.slots.map((s) => ({ pid: s.worker?.process.pid, inFlight: s.inFlight, done: s.done, restarts: s.restarts }));
  }

  /** Waits for every queued and running job, then stops the workers. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.busy()) await new Promise<void>((resolve) => (this.onIdle = resolve));
      // A replacement still starting is stopped too once it is up.
      await Promise.all(this.slots.map((slot) => slot.starting?.catch(() => {})));
      await Promise.all(this.slots.map((slot) => slot.worker?.close()));
    })();
    return this.closing;
  }

  private busy(): boolean {
    return this.queue.length > 0 || this.slots.some((s) => s.inFlight > 0);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const free = this.slots.filter((s) => s.worker && s.inFlight < this.perWorker);
      if (free.length === 0) return;
      const slot = free.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      void this.execute(slot, slot.worker!, this.queue.shift()!);
    }
  }

  private async execute(slot: Slot<C>, worker: Worker<C>, job: Job<C>): Promise<void> {
    slot.inFlight++;
    job.attempts++;
    try {
      job.resolve(await job.task(worker));
      slot.done++;
    } catch (error) {
      if (ProcwireError.is(error, ErrorCode.PEER_GONE)) {
        // Take the dead worker out now, before dispatch() could pick it again.
        this.replace(slot, worker, error);
        if (job.attempts < this.maxAttempts && this.canStillRun()) {
          this.log(`job re-queued (attempt ${job.attempts + 1} of ${this.maxAttempts})`);
          this.queue.unshift(job);
        } else {
          job.reject(error);
        }
      } else {
        job.reject(error);
      }
    } finally {
      slot.inFlight--;
      this.dispatch();
      if (this.onIdle && !this.busy()) this.onIdle();
    }
  }

  private async startWorker(slot: Slot<C>): Promise<void> {
    slot.starting = (async () => {
      const worker = await spawn(this.channel, this.module, { via: 'socketpair:' });
      slot.worker = worker;
      // However the link ends, a worker that was not closed by us is replaced.
      void worker.closed.then((error) => this.replace(slot, worker, error));
    })();
    try {
      await slot.starting;
    } finally {
      slot.starting = undefined;
    }
  }

  /** Called once per worker that died (the first of its failed call and its closed promise). */
  private replace(slot: Slot<C>, worker: Worker<C>, error: ProcwireError | undefined): void {
    if (slot.worker !== worker || this.closingWorkers()) return;
    slot.worker = undefined;
    this.log(`slot ${slot.index}: worker ${worker.process.pid} is gone (${error?.message ?? 'its link closed'})`);
    // The link can break while the process lives on; do not leave it behind.
    if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
    if (this.restartsLeft <= 0) return this.failIfNoWorkers(error);
    this.restartsLeft--;
    slot.restarts++;
    this.startWorker(slot).then(
      () => {
        this.log(`slot ${slot.index}: worker ${slot.worker?.process.pid} started in its place`);
        this.dispatch();
      },
      (startError: unknown) => {
        this.log(`slot ${slot.index}: cannot start a replacement: ${(startError as Error).message}`);
        this.failIfNoWorkers(startError);
      },
    );
  }

  /** True once close() has started stopping workers (after the drain). */
  private closingWorkers(): boolean {
    return this.closing !== undefined && !this.busy();
  }

  private canStillRun(): boolean {
    return this.slots.some((s) => s.worker || s.starting) || this.restartsLeft > 0;
  }

  /** With no worker left and none coming, queued jobs would wait forever: fail them. */
  private failIfNoWorkers(error: unknown): void {
    if (this.slots.some((s) => s.worker || s.starting)) return;
    for (const job of this.queue.splice(0)) job.reject(error);
    if (this.onIdle && !this.busy()) this.onIdle();
  }
}
