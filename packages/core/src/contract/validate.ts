import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Schema } from './types.js';

export type Validation =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly issues: readonly StandardSchemaV1.Issue[] };

/**
 * Runs a Standard Schema. Synchronous schemas (zod's usual case) stay
 * synchronous, so the hot path allocates no promise.
 *
 * MessagePack has one "nothing" (nil) where JavaScript has two, so a nil
 * arrives as `null`. When a schema rejects that `null`, the value is tried
 * again as `undefined` (a handler returning nothing for `z.void()`, say).
 */
export function validate(schema: Schema, value: unknown): Validation | Promise<Validation> {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) return result.then((r) => settle(schema, value, r));
  return settle(schema, value, result);
}

function settle(
  schema: Schema,
  value: unknown,
  result: StandardSchemaV1.Result<unknown>,
): Validation | Promise<Validation> {
  if (result.issues === undefined) return { ok: true, value: result.value };
  if (value === null) {
    const retry = schema['~standard'].validate(undefined);
    const fromRetry = (r: StandardSchemaV1.Result<unknown>): Validation =>
      r.issues === undefined ? { ok: true, value: r.value } : { ok: false, issues: result.issues! };
    return retry instanceof Promise ? retry.then(fromRetry) : fromRetry(retry);
  }
  return { ok: false, issues: result.issues };
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
    path: (issue.path ?? []).map((p) =>
      typeof p === 'object' && p !== null ? String((p as { key: PropertyKey }).key) : String(p),
    ),
  }));
}
