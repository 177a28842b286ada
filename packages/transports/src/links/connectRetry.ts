import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, ProcwireError } from '@procwire/core';

/**
 * OS errors that mean "nobody is listening yet" (ENXIO: a FIFO nobody reads),
 * or (EAGAIN, from a Unix socket) that the server's backlog is full: it
 * listens but does not accept fast enough. Worth retrying either way.
 */
const NOT_LISTENING = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN', 'ENXIO']);

/**
 * Runs `attempt` until it succeeds; while the error says nobody listens yet,
 * retries with a growing pause until `waitMs` has passed. Other errors, and
 * the last one, become CONNECT_FAILED naming the endpoint.
 */
export async function connectWithRetry<T>(where: string, waitMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  let pause = 5;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof ProcwireError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? '';
      const left = deadline - Date.now();
      if (NOT_LISTENING.has(code) && left > 0) {
        await sleep(Math.min(pause, left));
        pause = Math.min(pause * 2, 200);
        continue;
      }
      const why =
        code === 'EAGAIN'
          ? "the server's backlog of connections is full"
          : NOT_LISTENING.has(code)
            ? 'no server is listening'
            : (error as Error).message;
      throw new ProcwireError(ErrorCode.CONNECT_FAILED, `cannot connect to ${where}: ${why} (${code || 'error'})`, {
        cause: error,
      });
    }
  }
}
