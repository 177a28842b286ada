import { expect } from 'vitest';
import { ProcwireError } from 'procwire';

/** The code a promise rejects with; it must reject with a ProcwireError. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProcwireError);
    return (error as ProcwireError).code;
  }
  return 'NO ERROR';
}

/** The error a promise rejects with; it must reject, with a ProcwireError. */
export async function rejection(promise: Promise<unknown>): Promise<ProcwireError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProcwireError);
    return error as ProcwireError;
  }
  throw new Error('expected the promise to reject');
}

/** Reads a stream to its end: the items, and the error it ended with. */
export async function drainStream(stream: AsyncIterable<unknown>): Promise<{ items: unknown[]; error?: ProcwireError }> {
  const items: unknown[] = [];
  try {
    for await (const item of stream) items.push(item);
    return { items };
  } catch (error) {
    return { items, error: error as ProcwireError };
  }
}
