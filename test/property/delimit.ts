import { FrameDelimiter, ProcwireError, type FrameLimits } from '@procwire/core';

/** Everything a delimiter did with one stream: what a property compares. */
export interface DelimitOutcome {
  readonly frames: Buffer[];
  /** The error it threw, when it threw one. */
  readonly error: unknown;
  /** Bytes still held for an unfinished frame (after a throw: what it held then). */
  readonly buffered: number;
  /** The bytes of every run `pushRuns` handed over, back to back. */
  readonly runBytes: Buffer;
}

/** Feeds `pieces` through `push` (frame by frame) and, separately, through `pushRuns`. */
export function delimit(pieces: readonly Buffer[], limits: FrameLimits): DelimitOutcome {
  const frames: Buffer[] = [];
  const delimiter = new FrameDelimiter(limits);
  let error: unknown;
  try {
    for (const piece of pieces) delimiter.push(piece, (frame) => frames.push(Buffer.from(frame)));
  } catch (thrown) {
    error = thrown;
  }
  const runs: Buffer[] = [];
  const runDelimiter = new FrameDelimiter(limits);
  try {
    for (const piece of pieces) runDelimiter.pushRuns(piece, (source, start, end) => runs.push(Buffer.from(source.subarray(start, end))));
  } catch {
    // The same error as above; the property compares the frames handed over before it.
  }
  return { frames, error, buffered: delimiter.bufferedBytes, runBytes: Buffer.concat(runs) };
}

/** A text that is equal for equal outcomes: frames, error code, message and data, bytes held. */
export function outcomeText(outcome: DelimitOutcome): string {
  const frames = outcome.frames.map((f) => f.toString('hex')).join('|');
  const error =
    outcome.error === undefined
      ? 'no error'
      : outcome.error instanceof ProcwireError
        ? `${outcome.error.code}: ${outcome.error.message} ${JSON.stringify(outcome.error.data)}`
        : `NOT A ProcwireError: ${String(outcome.error)}`;
  return `${frames} / ${error} / held ${outcome.error === undefined ? outcome.buffered : '-'}`;
}

/** The error's code when it is a ProcwireError, else a text that names what it was. */
export function codeOf(error: unknown): string {
  if (error === undefined) return 'none';
  if (error instanceof ProcwireError) return error.code;
  return `not a ProcwireError (${error instanceof Error ? error.constructor.name : typeof error}: ${String(error)})`;
}

/** The `data.limit` a FRAME_TOO_LARGE error names. */
export function limitOf(error: unknown): unknown {
  return error instanceof ProcwireError ? (error.data as { limit?: unknown } | undefined)?.limit : undefined;
}
