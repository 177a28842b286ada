import type { Channel, Schema } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import { METHOD_SEPARATOR, RESERVED_METHOD_PREFIX } from '../wire/constants.js';

type RouteKind = 'rpc' | 'stream' | 'event';

/** One member of a channel, indexed by its wire name (`calc.add`). */
export interface Route {
  readonly kind: RouteKind;
  /** Member name as declared (`add`). */
  readonly name: string;
  /** Wire name (`calc.add`). */
  readonly wireName: string;
  /** rpc/stream: the input schema; event: the payload schema. */
  readonly input: Schema;
  /** rpc/stream: the output (or item) schema; event: the payload schema. */
  readonly output: Schema;
}

export function wireName(channel: Channel<any>, member: string): string {
  return `${channel.name}${METHOD_SEPARATOR}${member}`;
}

/**
 * Every member of a channel by wire name. A Map, not an object, so a peer
 * sending `__proto__` or `constructor` as a method name finds nothing.
 * defineChannel's names never take the protocol's reserved form; a channel
 * object made by other means that does is refused here, so no contract
 * member is ever served or called under a name the protocol owns.
 */
export function buildRoutes(channel: Channel<any>): Map<string, Route> {
  const routes = new Map<string, Route>();
  const add = (kind: RouteKind, name: string, input: Schema, output: Schema) => {
    const wire = wireName(channel, name);
    if (wire.startsWith(RESERVED_METHOD_PREFIX)) {
      throw new ProcwireError(
        ErrorCode.INVALID_CONTRACT,
        `${kind} "${wire}" starts with "${RESERVED_METHOD_PREFIX}", which is reserved for the protocol's own methods`,
      );
    }
    routes.set(wire, { kind, name, wireName: wire, input, output });
  };
  for (const [name, m] of Object.entries(channel.rpc as Record<string, { input: Schema; output: Schema }>)) {
    add('rpc', name, m.input, m.output);
  }
  for (const [name, m] of Object.entries(channel.streams as Record<string, { input: Schema; output: Schema }>)) {
    add('stream', name, m.input, m.output);
  }
  for (const [name, s] of Object.entries(channel.events as Record<string, Schema>)) add('event', name, s, s);
  return routes;
}
