import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProcwireError, spawn } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { FIXTURES } from '../helpers/processes.js';

const tsx = { execArgv: ['--import', 'tsx'] };

describe.skipIf(process.platform === 'win32')('spawn over socketpair:', () => {
  it('exposes the worker process and lets it exit by itself when the client closes', async () => {
    const worker = await spawn(calc, join(FIXTURES, 'quietWorker.ts'), tsx);
    expect(worker.process.pid).toBe(await worker.rpc.pid());
    await worker.close();
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });

  it('names the signal in PEER_GONE when the worker is killed', async () => {
    const worker = await spawn(calc, join(FIXTURES, 'quietWorker.ts'), tsx);
    const pending = worker.rpc.sleep({ ms: 10_000 });
    setTimeout(() => worker.process.kill('SIGKILL'), 30);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcwireError);
    expect((error as ProcwireError).code).toBe(ErrorCode.PEER_GONE);
    expect((error as ProcwireError).message).toMatch(/SIGKILL/);
    await worker.close();
  });

  it('supports `await using`', async () => {
    let pid = 0;
    {
      await using worker = await spawn(calc, new URL('../fixtures/quietWorker.ts', import.meta.url), tsx);
      pid = worker.process.pid!;
      expect(await worker.rpc.add({ a: 1, b: 2 })).toBe(3);
    }
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('fails clearly when the module cannot be started', async () => {
    const error = await spawn(calc, join(FIXTURES, 'doesNotExist.ts'), { ...tsx, stdio: 'ignore' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcwireError);
    expect((error as ProcwireError).code).toBe(ErrorCode.PEER_GONE);
    expect((error as ProcwireError).message).toMatch(/exited with code 1/);
  });
});
