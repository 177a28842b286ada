import type { Schema } from './types.js';

/**
 * What a schema can describe and what MessagePack can carry differ (see
 * docs/PROTOCOL.md, section 3). A schema is only ever run on values that
 * crossed the wire, so one that accepts no value the wire delivers (a Map,
 * a Set, a Float64Array, a bigint small enough to arrive as a number) would
 * reject every message. `defineChannel` refuses such schemas, naming the
 * field, instead of letting every call fail later.
 *
 * This needs to see inside the schema, which Standard Schema does not allow:
 * zod 4 schemas are inspected through their definition (`_zod.def`); other
 * libraries' schemas are taken as they are, and the section 3 table is
 * their guide.
 */

interface ZodDef {
  readonly type: string;
  readonly coerce?: boolean;
  readonly [key: string]: unknown;
}

interface ZodLike {
  readonly _zod: { readonly def: ZodDef; readonly bag?: { readonly Class?: unknown } };
}

function zodDef(schema: unknown): ZodDef | undefined {
  const def = (schema as Partial<ZodLike> | null)?._zod?.def;
  return typeof def === 'object' && def !== null && typeof def.type === 'string' ? def : undefined;
}

const TypedArray = Object.getPrototypeOf(Uint8Array) as abstract new () => unknown;

/** Why a class given to z.instanceof() never arrives as an instance of itself, or undefined when it does. */
function instanceProblem(Class: unknown): string | undefined {
  if (typeof Class !== 'function' || Class === Uint8Array || Class === Buffer) return undefined;
  const proto = (Class as { prototype?: unknown }).prototype;
  if (Class === ArrayBuffer || Class === DataView || proto instanceof TypedArray) {
    return `z.instanceof(${Class.name}) cannot cross the wire: binary data arrives as a Uint8Array (a Buffer) of its bytes; use z.instanceof(Uint8Array)`;
  }
  if (Class === Map || proto instanceof Map) return MAP;
  if (Class === Set || proto instanceof Set) return SET;
  return undefined;
}

const MAP = 'a Map cannot cross the wire: it arrives as a plain object; use z.record()';
const SET = 'a Set cannot cross the wire: it arrives as an array; use z.array()';
const BIGINT =
  'z.bigint() cannot cross the wire: MessagePack has one integer type, so a bigint within ±2^53 arrives as a number; ' +
  'use z.coerce.bigint<bigint>() (it takes both) or z.number()';

/** The problem with one node itself (not its children), or undefined. */
function nodeProblem(def: ZodDef, schema: unknown): string | undefined {
  switch (def.type) {
    case 'bigint':
      return def.coerce ? undefined : BIGINT;
    case 'literal':
      return (def.values as unknown[]).some((v) => typeof v === 'bigint') ? BIGINT.replace('z.bigint()', 'a bigint literal') : undefined;
    case 'map':
      return MAP;
    case 'set':
      return SET;
    case 'symbol':
      return 'a symbol cannot cross the wire (MessagePack has no symbols)';
    case 'function':
      return 'a function cannot cross the wire (it would arrive as null)';
    case 'promise':
      return 'a Promise cannot cross the wire: send its result';
    case 'file':
      return 'a File cannot cross the wire: send its bytes as z.instanceof(Uint8Array)';
    case 'custom':
      return instanceProblem((schema as ZodLike)._zod.bag?.Class);
    default:
      return undefined;
  }
}

/** The schemas a value passes through first, each with the path to it. */
function children(def: ZodDef, path: string): Array<[unknown, string]> {
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, unknown>;
      const fields: Array<[unknown, string]> = Object.keys(shape).map((key) => [shape[key], `${path}.${key}`]);
      if (def.catchall !== undefined) fields.push([def.catchall, `${path}.*`]);
      return fields;
    }
    case 'array':
      return [[def.element, `${path}[]`]];
    case 'tuple': {
      const items: Array<[unknown, string]> = (def.items as unknown[]).map((item, i) => [item, `${path}[${i}]`]);
      if (def.rest) items.push([def.rest, `${path}[]`]);
      return items;
    }
    case 'record':
      return [[def.valueType, `${path}.*`]];
    case 'union':
      return (def.options as unknown[]).map((option) => [option, path]);
    case 'intersection':
      return [
        [def.left, path],
        [def.right, path],
      ];
    // A pipe's `out` (a transform's result, say) never sees wire data: only `in` does.
    case 'pipe':
      return [[def.in, path]];
    case 'lazy':
      return [[(def.getter as () => unknown)(), path]];
    default:
      return def.innerType === undefined ? [] : [[def.innerType, path]];
  }
}

/** Walks a zod schema; `visit` returns true to stop. Recursive (lazy) schemas are visited once. */
function walk(schema: unknown, path: string, visit: (def: ZodDef, schema: unknown, path: string) => boolean): boolean {
  const seen = new Set<unknown>();
  const go = (node: unknown, at: string): boolean => {
    const def = zodDef(node);
    if (!def || seen.has(node)) return false;
    seen.add(node);
    if (visit(def, node, at)) return true;
    return children(def, at).some(([child, childPath]) => go(child, childPath));
  };
  return go(schema, path);
}

/** The first thing in `schema` the wire cannot deliver, as "path: reason", or undefined. */
export function wireProblem(schema: Schema, path: string): string | undefined {
  let problem: string | undefined;
  walk(schema, path, (def, node, at) => {
    const reason = nodeProblem(def, node);
    if (reason !== undefined) problem = `${at}: ${reason}`;
    return reason !== undefined;
  });
  return problem;
}

/** Node types whose output differs from their input. */
const CHANGES_VALUE = new Set(['pipe', 'transform', 'default', 'prefault', 'catch']);

/** Node types that accept `undefined`, which inside an array arrives as nil, so as `null`, until validation repairs it. */
const UNDEFINED_OK = new Set(['optional', 'undefined', 'void']);

/**
 * Whether the receiver must run `schema` even with `validate: false`: it
 * changes the value (a transform, a default, a coercion, an `undefined`
 * array element that arrives as `null`), so the type the contract promises
 * is the schema's output, not what arrived. Schemas that cannot be
 * inspected are skipped as the option asks.
 */
export function mustRunSchema(schema: Schema): boolean {
  return walk(
    schema,
    '',
    (def, _node, at) => CHANGES_VALUE.has(def.type) || def.coerce === true || (UNDEFINED_OK.has(def.type) && at.endsWith(']')),
  );
}
