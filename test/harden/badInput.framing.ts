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

function decodeAll(frames: readonly Buffer[]): { messages: unknown[]; undecodable: number } {
  const messages: unknown[] = [];
  let undecodable = 0;
  for (const frame of frames) {
    try {
      messages.push(decode(frame));
    } catch {
      undecodable++;
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
  let dropped = 0;
  for (const unit of units) {
    if (unit.length > DEFAULT_FRAME_LIMITS.maxFrameBytes) return { verdict: 'refused', dropped, ...decodeAll(frames) };
    const frame = Buffer.from(unit);
    try {
      checkFrame(frame, DEFAULT_FRAME_LIMITS);
      frames.push(frame);
    } catch {
      dropped++;
    }
  }
  return { verdict: 'complete', dropped, ...decodeAll(frames) };
}
