/**
 * How the examples end on an error. A ProcwireError is an expected failure a
 * user can act on (bad URL, nothing listening, address in use), so it becomes
 * one line with its stable code instead of a stack trace; anything else is a
 * bug and keeps its stack.
 */
import { ProcwireError } from 'procwire';

export function exitWithError(error: unknown): never {
  if (error instanceof ProcwireError) {
    process.stderr.write(`error ${error.code}: ${error.message}\n`);
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
}
