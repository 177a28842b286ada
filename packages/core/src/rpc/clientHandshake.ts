import type { Channel } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import type { Link } from '../link/link.js';
import { encode } from '../wire/codec.js';
import { MessageType, PROTOCOL_VERSION } from '../wire/constants.js';
import { describePeerValue } from '../wire/describe.js';
import { limitsOf } from '../wire/limits.js';
import { MAX_TIMER_MS } from './clientOptions.js';

/** The server's hello, as received (each field is checked before use). */
export type ServerHello = Record<string, unknown>;

/**
 * The client's side of the procwire handshake: sends its hello, waits for
 * the server's answer (or its `$/refused`) and checks it.
 */
export class ClientHandshake {
  /** Set when the server sent `$/refused` instead of its hello. */
  private refusal: ProcwireError | undefined;
  /** Set once the server's hello arrived. */
  private answered = false;
  /** Set while the handshake is in progress. */
  private waiter: { resolve(hello: unknown): void; reject(error: ProcwireError): void } | undefined;

  constructor(
    private readonly channel: Channel<any>,
    private readonly link: Link,
  ) {}

  /** True while the server's answer is awaited. */
  get waiting(): boolean {
    return this.waiter !== undefined;
  }

  /** True once the server's hello arrived (a `$/refused` only comes before it). */
  get done(): boolean {
    return this.answered;
  }

  /**
   * Sends this client's hello and resolves with the server's, once it
   * matches; otherwise destroys the link and rejects with why.
   */
  async run(timeoutMs: number, closed: Promise<ProcwireError | undefined>): Promise<ServerHello> {
    const answer = await new Promise<unknown>((resolve, reject) => {
      if (this.refusal) return reject(this.refusal);
      // 0 (or more than a timer holds) means no timeout, as for calls.
      const timer =
        timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS
          ? setTimeout(() => {
              reject(new ProcwireError(ErrorCode.TIMEOUT, `no procwire handshake answer within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      this.waiter = {
        resolve: (hello) => {
          clearTimeout(timer);
          resolve(hello);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      void closed.then((error) => {
        clearTimeout(timer);
        reject(this.refusal ?? error ?? new ProcwireError(ErrorCode.CLOSED, 'closed during the handshake'));
      });
      // This side's limits, so the server never sends a reply, item or event past them.
      const { maxFrameBytes, maxDepth, maxElements } = limitsOf(this.link.capabilities);
      this.link.send(
        encode([
          MessageType.HELLO,
          { procwire: PROTOCOL_VERSION, channel: this.channel.name, version: this.channel.version, maxFrameBytes, maxDepth, maxElements },
        ]),
      );
    }).catch((error: unknown) => {
      this.link.destroy();
      throw error;
    });
    const hello = answer as ServerHello;
    const mismatch = checkServerHello(hello, this.channel);
    if (mismatch) {
      this.link.destroy();
      throw mismatch;
    }
    return hello;
  }

  /** The server's hello arrived; false when none was awaited. */
  onHello(payload: unknown): boolean {
    this.answered = true;
    const waiter = this.takeWaiter();
    if (!waiter) return false;
    if (typeof payload === 'object' && payload !== null) {
      waiter.resolve(payload);
      return true;
    }
    this.link.destroy();
    waiter.reject(new ProcwireError(ErrorCode.PROTOCOL, 'malformed hello from the server'));
    return true;
  }

  /** The first thing a procwire server sends (but events) is its hello; anything else means another protocol. */
  fail(): void {
    const waiter = this.takeWaiter();
    this.link.destroy();
    waiter?.reject(new ProcwireError(ErrorCode.PROTOCOL, 'the endpoint did not answer the procwire handshake; is it a procwire server?'));
  }

  /** The server will not serve this connection and says why (PROTOCOL.md, 5.1). */
  refused(params: unknown): void {
    // It may come before run() started waiting (a link that delivers what
    // arrived early as soon as it starts): then run() finds it.
    const waiter = this.takeWaiter();
    const reason = Array.isArray(params) ? (params[0] as { code?: unknown; message?: unknown } | undefined) : undefined;
    const code = reason?.code === ErrorCode.TOO_MANY_CONNECTIONS ? ErrorCode.TOO_MANY_CONNECTIONS : ErrorCode.ACCESS_DENIED;
    const text = typeof reason?.message === 'string' ? reason.message.slice(0, 1000) : 'the server refused the connection';
    this.refusal = new ProcwireError(code, `the server refused the connection: ${text}`);
    this.link.destroy();
    waiter?.reject(this.refusal);
  }

  private takeWaiter(): ClientHandshake['waiter'] {
    const waiter = this.waiter;
    this.waiter = undefined;
    return waiter;
  }
}

/** Why the server's hello does not fit this client's channel, or undefined when it does. */
function checkServerHello(hello: ServerHello, channel: Channel<any>): ProcwireError | undefined {
  if (hello.procwire !== PROTOCOL_VERSION) {
    return new ProcwireError(
      ErrorCode.PROTOCOL,
      `the server speaks procwire protocol ${describePeerValue(hello.procwire)}, this client speaks ${PROTOCOL_VERSION}`,
    );
  }
  if (hello.channel !== channel.name) {
    return new ProcwireError(
      ErrorCode.CHANNEL_MISMATCH,
      `the server serves channel ${describePeerValue(hello.channel)}, this client expects ${channel.name}`,
      { data: { server: hello.channel, client: channel.name } },
    );
  }
  if (hello.version !== channel.version) {
    return new ProcwireError(
      ErrorCode.VERSION_MISMATCH,
      `the server serves ${channel.name} version ${describePeerValue(hello.version)}, this client expects version ${channel.version}`,
      { data: { server: hello.version, client: channel.version } },
    );
  }
  // Only a server's answer says role "server"; the client's own hello does
  // not, so an endpoint that echoes what it is sent is told apart.
  if (hello.role !== 'server') {
    return new ProcwireError(
      ErrorCode.PROTOCOL,
      'the endpoint answered the procwire handshake with a hello that does not say role "server", as only the client\'s own hello does (does it echo what it is sent?); it is not a procwire server',
    );
  }
  return undefined;
}
