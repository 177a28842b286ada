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
