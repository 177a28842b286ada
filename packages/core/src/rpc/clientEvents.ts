import { EventEmitter } from 'eventemitter3';
import { describeIssues, schemaThrew, validate, type Validation } from '../contract/validate.js';
import type { Channel, Schema } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { wireName, type Route } from './routes.js';

type Checked = Validation | { readonly threw: unknown };

/** An event received and being validated; events are delivered in the order they arrived. */
interface QueuedEvent {
  readonly route: Route;
  readonly checked: Checked | Promise<Checked>;
}

/**
 * A client's event subscriptions and the delivery of received events to
 * them: validated by the event's schema, in arrival order.
 */
export class ClientEvents {
  private readonly emitter = new EventEmitter();
  /** Events waiting for an earlier event's asynchronous validation. */
  private readonly queue: QueuedEvent[] = [];

  constructor(
    private readonly channel: Channel<any>,
    private readonly routes: ReadonlyMap<string, Route>,
    /** Per member, the schema its received values go through (none with `validate: false`, unless it transforms). */
    private readonly received: ReadonlyMap<Route, Schema | undefined>,
    /** Problems no caller can be told about (an invalid payload). */
    private readonly reportError: (error: ProcwireError) => void,
  ) {}

  on(event: string, listener: (payload: unknown) => void): void {
    this.check(event);
    this.emitter.on(event, listener);
  }

  once(event: string, listener: (payload: unknown) => void): void {
    this.check(event);
    this.emitter.once(event, listener);
  }

  off(event: string, listener?: (payload: unknown) => void): void {
    this.emitter.off(event, listener);
  }

  private check(event: string): void {
    const route = this.routes.get(wireName(this.channel, event));
    if (route?.kind !== 'event') {
      throw new ProcwireError(ErrorCode.INVALID_ARGUMENT, `channel ${this.channel.name} declares no event "${event}"`);
    }
  }

  /** An event of `route` arrived with `payload`. */
  receive(route: Route, payload: unknown): void {
    if (this.emitter.listenerCount(route.name) === 0) return;
    const schema = this.received.get(route);
    let checked: Validation | Promise<Validation> | { readonly threw: unknown };
    if (!schema) checked = { ok: true, value: payload };
    else {
      try {
        checked = validate(schema, payload);
      } catch (threw) {
        checked = { threw };
      }
    }
    // Delivery order is arrival order: behind an event whose schema is
    // asynchronous, the events after it wait (their validation runs meanwhile).
    if (this.queue.length === 0 && !(checked instanceof Promise)) return this.deliver(route, checked);
    // A rejection is caught at once: it may wait behind other events, and unhandled it would end the process.
    this.queue.push({ route, checked: checked instanceof Promise ? checked.catch((threw: unknown) => ({ threw })) : checked });
    if (this.queue.length === 1) void this.deliverQueued();
  }

  private async deliverQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const { route, checked } = this.queue[0]!;
      const outcome = await checked;
      this.queue.shift();
      this.deliver(route, outcome);
    }
  }

  private deliver(route: Route, checked: Checked): void {
    if ('threw' in checked) {
      return this.reportError(schemaThrew(`event ${route.wireName}`, checked.threw));
    }
    if (checked.ok) {
      try {
        this.emitter.emit(route.name, checked.value);
      } catch (error) {
        // A listener's bug surfaces as an uncaught exception, as in any
        // EventEmitter, but from its own task: the link's read loop and the
        // messages queued behind this one must not be torn down by it.
        queueMicrotask(() => {
          throw error;
        });
      }
      return;
    }
    this.reportError(
      new ProcwireError(ErrorCode.INVALID_OUTPUT, `invalid payload for event ${route.wireName}: ${describeIssues(checked.issues)}`),
    );
  }
}
