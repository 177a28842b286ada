import type { Bytes } from './badInput.bytes.js';

/** An answer a case requires (besides the probe's). */
export type Answer =
  | { readonly id: number; readonly result: unknown }
  /** `check` returns what is wrong with the result, or undefined. */
  | { readonly id: number; readonly check: (result: unknown) => string | undefined }
  /** A typed error answer: one of these codes. */
  | { readonly id: number; readonly error: readonly string[] }
  | { readonly stream: number; readonly items: readonly unknown[] }
  | { readonly stream: number; readonly error: readonly string[] }
  | { readonly hello: true };

/**
 * What the server must make of a case:
 * - `refused`: the bytes break the framing rules (size, depth, elements,
 *   0xC1, extensions). A byte stream cannot be resynchronised, so the
 *   connection must be dropped; a message link (mq:) may instead drop the
 *   message and count it, the next message starting clean.
 * - `incomplete`: a valid beginning. The server must wait for the rest, and
 *   drop the connection once the peer hangs up. (mq: carries a frame per
 *   message, so there it is a malformed message, dropped and counted.)
 * - `answers`: whole frames; the server answers exactly these (an empty
 *   list: it drops them without an answer, section 2.4 of the protocol),
 *   keeps the connection, and counts `counted` protocol errors.
 * - `survives`: whole frames whose answer the case does not predict (the
 *   mutation sweep): whatever the server sends must be well-formed and
 *   typed, and the connection must go on.
 */
export type Expect =
  | { readonly framing: 'refused' }
  | { readonly framing: 'incomplete' }
  | { readonly answers: readonly Answer[]; readonly counted?: number }
  | { readonly survives: true };

export interface BadInputCase {
  readonly name: string;
  /** What the hostile peer sends: on a byte stream, write after write; on mq:, one message each. */
  readonly units: readonly Bytes[];
  /**
   * 'together': all units in one write (mq: in one turn, so the link packs
   * them into shared messages); 'bytewise': one byte per write (byte
   * streams only). Default: one write (one message) per unit.
   */
  readonly writes?: 'together' | 'bytewise';
  /** Say hello first: errors then come as maps instead of "CODE: message" strings. */
  readonly hello?: boolean;
  readonly expect: Expect;
}

/** One row of the catalogue: its cases run over every transport. */
export interface BadInputKind {
  readonly kind: string;
  readonly cases: readonly BadInputCase[];
}
