import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import type { Channel, ChannelDefinition, Schema } from './types.js';
import { wireProblem } from './wireSchemas.js';

/** Channel and member names: identifiers, plus `-` and `.` inside channel names. */
const CHANNEL_NAME = /^[A-Za-z_][\w.-]{0,127}$/;
const MEMBER_NAME = /^[A-Za-z_$][\w$]{0,127}$/;

function invalid(message: string): never {
  throw new ProcwireError(ErrorCode.INVALID_CONTRACT, `defineChannel: ${message}`);
}

function isSchema(value: unknown): boolean {
  const std = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.['~standard'];
  return typeof std === 'object' && std !== null && std.version === 1 && typeof std.validate === 'function';
}

/** Every schema only ever sees values that crossed the wire: it must accept what the wire delivers. */
function checkCarried(schema: Schema, path: string): void {
  const problem = wireProblem(schema, path);
  if (problem !== undefined) invalid(problem);
}

function checkGroup(group: string, members: unknown, seen: Map<string, string>, shape: 'method' | 'schema'): void {
  if (members === undefined) return;
  if (typeof members !== 'object' || members === null || Array.isArray(members)) {
    invalid(`"${group}" must be an object`);
  }
  for (const [name, spec] of Object.entries(members)) {
    if (!MEMBER_NAME.test(name)) invalid(`${group} name "${name}" is not an identifier`);
    const previous = seen.get(name);
    if (previous !== undefined) invalid(`"${name}" is declared in both ${previous} and ${group}; names must be unique`);
    seen.set(name, group);
    if (shape === 'schema') {
      if (!isSchema(spec)) invalid(`${group}.${name} must be a Standard Schema (for example a zod schema)`);
      checkCarried(spec as Schema, `${group}.${name}`);
    } else {
      const s = spec as { input?: unknown; output?: unknown } | null;
      if (!s || !isSchema(s.input)) invalid(`${group}.${name}.input must be a Standard Schema`);
      if (!isSchema(s.output)) invalid(`${group}.${name}.output must be a Standard Schema`);
      checkCarried(s.input as Schema, `${group}.${name}.input`);
      checkCarried(s.output as Schema, `${group}.${name}.output`);
    }
  }
}

/**
 * Declares a channel: its name, version, rpc methods, events and streams,
 * each described by Standard Schemas (zod is the documented default). The
 * result is shared by the serving and the calling side, so both are typed
 * from one source. Names must be unique across rpc, streams and events.
 */
export function defineChannel<const D extends ChannelDefinition>(definition: D): Channel<D> {
  if (typeof definition !== 'object' || definition === null) invalid('expected a definition object');
  if (typeof definition.name !== 'string' || !CHANNEL_NAME.test(definition.name)) {
    invalid(`name must match ${CHANNEL_NAME} (got ${JSON.stringify(definition.name)})`);
  }
  if (!Number.isSafeInteger(definition.version) || definition.version < 1) {
    invalid(`version must be a positive integer (got ${String(definition.version)})`);
  }
  const seen = new Map<string, string>();
  checkGroup('rpc', definition.rpc, seen, 'method');
  checkGroup('streams', definition.streams, seen, 'method');
  checkGroup('events', definition.events, seen, 'schema');
  return Object.freeze({
    name: definition.name,
    version: definition.version,
    rpc: Object.freeze({ ...(definition.rpc ?? {}) }),
    events: Object.freeze({ ...(definition.events ?? {}) }),
    streams: Object.freeze({ ...(definition.streams ?? {}) }),
    kind: 'procwire.channel',
  }) as unknown as Channel<D>;
}

export function isChannel(value: unknown): value is Channel {
  return (value as Channel | null)?.kind === 'procwire.channel';
}
