import { decode, decodeRun } from './codec.js';
import { FrameDelimiter } from './frameDelimiter.js';
import { HARD_MAX_FRAME_BYTES, resolveFrameLimits } from './limits.js';

/** Receives one decoded message; returning false stops the run (the receiver closed). */
export type MessageSink = (message: unknown) => boolean | void;
/** Receives a frame that could not be decoded, as `frame[start, end)`, so its msgid may still be read (wire/peek.ts). */
export type UndecodableSink = (error: Error, frame: Buffer, start: number, end: number) => void;

/** Frames of a run were checked against the connection's limits already; this only re-splits them. */
const RESPLIT_LIMITS = resolveFrameLimits({ maxFrameBytes: HARD_MAX_FRAME_BYTES, maxDepth: 10_000, maxElements: 100_000_000 });

/**
 * Decodes a run of whole, structurally checked frames (`source[start, end)`)
 * and hands each message to `onMessage` in order. The run is decoded in one
 * pass; should a frame in it fail to decode (structure is checked before, but
 * not everything msgpackr refuses, such as a map with an array as a key),
 * the rest of the run is decoded frame by frame so that only the bad frame is
 * lost and reported. An exception thrown by `onMessage` propagates unchanged.
 */
export function decodeFrames(source: Buffer, start: number, end: number, onMessage: MessageSink, onUndecodable: UndecodableSink): void {
  let decodedTo = start;
  let stopped = false;
  let receiverError: { error: unknown } | undefined;
  try {
    decodeRun(source, start, end, (message, frameEnd) => {
      decodedTo = frameEnd;
      try {
        if (onMessage(message) === false) stopped = true;
      } catch (error) {
        receiverError = { error };
        return false;
      }
      return !stopped;
    });
  } catch (error) {
    if (receiverError) throw receiverError.error;
    decodeOneByOne(source, decodedTo, end, onMessage, onUndecodable, error as Error);
    return;
  }
  if (receiverError) throw receiverError.error;
}

function decodeOneByOne(
  source: Buffer,
  start: number,
  end: number,
  onMessage: MessageSink,
  onUndecodable: UndecodableSink,
  firstError: Error,
): void {
  const frames: Array<[number, number]> = [];
  let offset = start;
  new FrameDelimiter(RESPLIT_LIMITS).push(source.subarray(start, end), (frame) => {
    frames.push([offset, offset + frame.length]);
    offset += frame.length;
  });
  let reportedFirst = false;
  for (const [from, to] of frames) {
    let message: unknown;
    try {
      message = decode(source, from, to);
    } catch (error) {
      onUndecodable(reportedFirst ? (error as Error) : firstError, source, from, to);
      reportedFirst = true;
      continue;
    }
    if (onMessage(message) === false) return;
  }
}
