import { MAX_MSGID } from './constants.js';

/** Array length of each message type that carries a msgid in its second element. */
const LENGTH_WITH_ID: Readonly<Record<number, number>> = { 0: 4, 1: 4, 4: 2, 5: 5, 6: 3, 7: 3, 8: 3 };

/**
 * The type and msgid of a message from its first bytes alone, for a frame
 * that cannot be decoded (a map with an array as a key, a limit broken on a
 * link that drops only the frame). What the receiver drops must still end
 * the call or stream it belongs to with an error, never silence. Undefined
 * when the frame does not start as a message with a msgid:
 * `[type, msgid, ...]` with the array length of that type.
 */
export function peekMessage(frame: Uint8Array, start = 0, end = frame.length): { type: number; id: number } | undefined {
  let p = start;
  if (p >= end) return undefined;
  const first = frame[p]!;
  let length: number;
  if (first >= 0x90 && first <= 0x9f) {
    length = first & 0x0f;
    p += 1;
  } else if (first === 0xdc && p + 3 <= end) {
    length = (frame[p + 1]! << 8) | frame[p + 2]!;
    p += 3;
  } else {
    return undefined;
  }
  const type = frame[p++];
  if (type === undefined || type > 0x7f || LENGTH_WITH_ID[type] !== length) return undefined;
  const id = readUint(frame, p, end);
  return id === undefined ? undefined : { type, id };
}

/** A non-negative integer within msgid range in any MessagePack int form. */
function readUint(b: Uint8Array, p: number, end: number): number | undefined {
  if (p >= end) return undefined;
  const first = b[p]!;
  if (first <= 0x7f) return first;
  const width =
    first === 0xcc || first === 0xd0
      ? 1
      : first === 0xcd || first === 0xd1
        ? 2
        : first === 0xce || first === 0xd2
          ? 4
          : first === 0xcf || first === 0xd3
            ? 8
            : 0;
  if (width === 0 || p + 1 + width > end) return undefined;
  let value = 0;
  for (let i = 1; i <= width; i++) value = value * 256 + b[p + i]!;
  // Signed forms: a set top bit is a negative number, never a msgid.
  if (first >= 0xd0 && b[p + 1]! >= 0x80) return undefined;
  return value <= MAX_MSGID ? value : undefined;
}
