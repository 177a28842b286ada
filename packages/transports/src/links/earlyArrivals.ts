/**
 * Connections that arrive between the moment a transport listens and the
 * moment core starts the acceptor (a client retrying with `waitMs` can hit
 * that window) are held here and handed over at start, never dropped.
 */
export class EarlyArrivals<T> {
  private handler: ((item: T) => void) | undefined;
  private readonly held: T[] = [];

  readonly arrive = (item: T): void => {
    if (this.handler) this.handler(item);
    else this.held.push(item);
  };

  start(handler: (item: T) => void): void {
    this.handler = handler;
    for (const item of this.held.splice(0)) handler(item);
  }
}
