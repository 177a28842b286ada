/**
 * A value a peer sent, as text for an error message. String() would call the
 * value's own toString/valueOf, and a decoded map can carry those keys with
 * any value ({"toString": 0}), which makes String() throw a TypeError.
 */
export function describePeerValue(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  return 'a map';
}
