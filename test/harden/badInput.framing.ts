import { checkFrame, decode, DEFAULT_FRAME_LIMITS, FrameDelimiter } from 'procwire/link';
import type { Bytes } from './badInput.bytes.js';

/**
 * What the server's framing makes of the bytes a case sends, worked out
 * here with procwire's own frame checks and the server's default limits.
 * The test then holds the server process to it: a verdict the server does
 * not act on (a refused frame it keeps reading after, a whole frame it
 * hangs up on) is a failure, and so is a catalogue case that is not what it
 * claims to be.
 */
export interface Framing {
  /**
   * 'refused': a byte stream breaks the rules somewhere (the connection must
   * end); 'incomplete': it ends inside a frame; 'complete': whole frames only.
   * On a message link: 'refused' when a message exceeds the frame limit (the
   * link ends the connection), else 'complete', with the bad messages in `dropped`.
   */
  readonly verdict: 'refused' | 'incomplete' | 'complete';
  /** The messages of the whole frames the server will act on, in order (undecodable ones left out). */
  readonly messages: readonly unknown[];
  /** Message links: messages dropped as malformed (each counted as a protocol error). */
  readonly dropped: number;
  /** Whole frames that pass the framing checks but do not decode (each counted as a protocol error). */
  readonly undecodable: number;
}

/** Array length of the message types the server answers by msgid. */
const ANSWERED_LENGTH: Record<number, number> = { 0: 4, 5: 5 };

/**
 * A request or stream open the server cannot decode (or, on a message link,
 * drops for a broken limit) but whose type and msgid it reads from the first
 * bytes (protocol section 2.4): it is owed an error answer, so it joins the
 * messages as `[type, msgid, undefined...]`.
 */
function readableHead(frame: Buffer): unknown[] | undefined {
  const first = frame[0];
  if (first === undefined || first < 0x90 || first > 0x9f) return undefined;
  const type = frame[1]!;
  const length = ANSWERED_LENGTH[type];
  if (length !== (first & 0x0f)) return undefined;
  const id = uintAt(frame, 2);
  return id === undefined ? undefined : [type, id, ...new Array<undefined>(length - 2).fill(undefined)];
}

/** A msgid in any MessagePack integer form (non-negative, within 32 bits). */
function uintAt(b: Buffer, at: number): number | undefined {
  const first = b[at];
  if (first === undefined) return undefined;
  if (first <= 0x7f) return first;
  const widths: Record<number, number> = { 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 };
  const width = widths[first];
  if (width === undefined || at + 1 + width > b.length) return undefined;
  if (first >= 0xd0 && b[at + 1]! >= 0x80) return undefined;
  let value = 0;
  for (let i = 1; i <= width; i++) value = value * 256 + b[at + i]!;
  return value <= 0xffff_ffff ? value : undefined;
}

function decodeAll(frames: readonly Buffer[]): { messages: unknown[]; undecodable: number } {
  const messages: unknown[] = [];
  let undecodable = 0;
  for (const frame of frames) {
    try {
      messages.push(decode(frame));
    } catch {
      undecodable++;
      const head = readableHead(frame);
      if (head) messages.push(head);
    }
  }
  return { messages, undecodable };
}

/** A byte stream (sockets, pipes, FIFOs, shm: rings): the units back to back. */
export function streamFraming(units: readonly Bytes[]): Framing {
  const delimiter = new FrameDelimiter(DEFAULT_FRAME_LIMITS);
  const frames: Buffer[] = [];
  let verdict: Framing['verdict'] = 'complete';
  try {
    for (const unit of units) delimiter.push(Buffer.from(unit.buffer, unit.byteOffset, unit.length), (f) => frames.push(Buffer.from(f)));
    if (!delimiter.idle) verdict = 'incomplete';
  } catch {
    verdict = 'refused';
  }
  return { verdict, dropped: 0, ...decodeAll(frames) };
}

/**
 * A message link (mq:): each unit is one frame. `packed` units were sent in
 * one turn and travel as messages of whole frames (all units here are valid
 * in that case, so each is checked on its own like the rest).
 */
export function messageFraming(units: readonly Bytes[]): Framing {
  const frames: Buffer[] = [];
  const answeredDrops: unknown[] = [];
  let dropped = 0;
  const framing = (verdict: Framing['verdict']): Framing => {
    const decoded = decodeAll(frames);
    return { verdict, dropped, undecodable: decoded.undecodable, messages: [...decoded.messages, ...answeredDrops] };
  };
  for (const unit of units) {
    if (unit.length > DEFAULT_FRAME_LIMITS.maxFrameBytes) return framing('refused');
    const frame = Buffer.from(unit);
    try {
      checkFrame(frame, DEFAULT_FRAME_LIMITS);
      frames.push(frame);
    } catch {
      dropped++;
      const head = readableHead(frame);
      if (head) answeredDrops.push(head);
    }
  }
  return framing('complete');
}
