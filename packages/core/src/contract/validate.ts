import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import type { Schema } from './types.js';

export type Validation =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly issues: readonly StandardSchemaV1.Issue[] };

/**
 * Runs a Standard Schema on a value freshly decoded from the wire (the value
 * belongs to procwire until validation hands it on, so it may be repaired in
 * place). Synchronous schemas (zod's usual case) stay synchronous, so the
 * hot path allocates no promise. A schema that throws (a transform, a
 * refinement) throws here; callers turn that into their ProcwireError.
 *
 * MessagePack has one "nothing" (nil) where JavaScript has two, so a nil
 * arrives as `null`, wherever it is: the whole value, an array element, a
 * field a foreign peer sent as nil. When a schema rejects a `null`, each
 * rejected `null` is made `undefined` and the value is validated once more
 * (a handler returning nothing for `z.void()`, `[1, undefined]` sent for
 * `z.array(z.number().optional())`).
 */
export function validate(schema: Schema, value: unknown): Validation | Promise<Validation> {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) return result.then((r) => settle(schema, value, r));
  return settle(schema, value, result);
}

function settle(schema: Schema, value: unknown, result: StandardSchemaV1.Result<unknown>): Validation | Promise<Validation> {
  if (result.issues === undefined) return { ok: true, value: result.value };
  const issues = result.issues;
  const repaired = nilsAsUndefined(value, issues);
  if (repaired === NOTHING_TO_REPAIR) return { ok: false, issues };
  const retry = schema['~standard'].validate(repaired);
  const fromRetry = (r: StandardSchemaV1.Result<unknown>): Validation =>
    r.issues === undefined ? { ok: true, value: r.value } : { ok: false, issues };
  return retry instanceof Promise ? retry.then(fromRetry) : fromRetry(retry);
}

const NOTHING_TO_REPAIR = Symbol('nothing to repair');

/** `value` with every `null` an issue points at made `undefined`, or NOTHING_TO_REPAIR. */
function nilsAsUndefined(value: unknown, issues: readonly StandardSchemaV1.Issue[]): unknown {
  let root = value;
  let repaired = false;
  for (const issue of issues) {
    const path = issue.path ?? [];
    if (path.length === 0) {
      if (root === null) {
        root = undefined;
        repaired = true;
      }
      continue;
    }
    let parent = root;
    for (let i = 0; i < path.length - 1 && parent !== undefined; i++) parent = childOf(parent, keyOf(path[i]!));
    if (typeof parent !== 'object' || parent === null) continue;
    const key = keyOf(path[path.length - 1]!);
    if (childOf(parent, key) === null) {
      (parent as Record<PropertyKey, unknown>)[key] = undefined;
      repaired = true;
    }
  }
  return repaired ? root : NOTHING_TO_REPAIR;
}

function keyOf(segment: PropertyKey | StandardSchemaV1.PathSegment): PropertyKey {
  return typeof segment === 'object' && segment !== null ? segment.key : segment;
}

function childOf(container: unknown, key: PropertyKey): unknown {
  if (typeof container !== 'object' || container === null) return undefined;
  return Object.prototype.hasOwnProperty.call(container, key) ? (container as Record<PropertyKey, unknown>)[key] : undefined;
}

/**
 * A schema's own code threw (or its promise rejected) while checking a
 * received value: INVALID_OUTPUT on the client, INVALID_INPUT on the server,
 * with the thrown value as its cause. `exposeReason: false` keeps the thrown
 * message out of what is sent to a peer.
 */
export function schemaThrew(
  what: string,
  cause: unknown,
  code: typeof ErrorCode.INVALID_OUTPUT | typeof ErrorCode.INVALID_INPUT = ErrorCode.INVALID_OUTPUT,
  exposeReason = true,
): ProcwireError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ProcwireError(code, `the schema for ${what} threw${exposeReason ? `: ${reason}` : ''}`, { cause });
}

/** A short, readable summary of issues for error messages. */
export function describeIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((p) => (typeof p === 'object' && p !== null ? String((p as { key: PropertyKey }).key) : String(p)))
        .join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Issues in a shape that crosses the wire (plain data only). */
export function issuesToData(issues: readonly StandardSchemaV1.Issue[]): unknown {
  return issues.slice(0, 20).map((issue) => ({
    message: issue.message,
    path: (issue.path ?? []).map((p) => (typeof p === 'object' && p !== null ? String((p as { key: PropertyKey }).key) : String(p))),
  }));
}
