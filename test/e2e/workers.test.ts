import { spawn as spawnProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'procwire';
import { calc } from '../fixtures/calc.js';
import { FIXTURES } from '../helpers/processes.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(process.platform !== 'linux')('workers', () => {
  it('pipe: gives the worker two real anonymous pipes, not a socket', async () => {
    const worker = await spawn(calc, join(FIXTURES, 'calcServer.ts'), { via: 'pipe:', execArgv: ['--import', 'tsx'] });
    const pid = await worker.rpc.pid();
    expect(readlinkSync(`/proc/${pid}/fd/3`)).toMatch(/^pipe:\[\d+\]$/);
    expect(readlinkSync(`/proc/${pid}/fd/4`)).toMatch(/^pipe:\[\d+\]$/);
    expect(readlinkSync(`/proc/${pid}/fd/3`)).not.toBe(readlinkSync(`/proc/${pid}/fd/4`));
    await worker.close();
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });

  for (const via of ['pipe:', 'socketpair:'] as const) {
    it(`a parent killed with SIGKILL takes its ${via} workers with it`, async () => {
      const parent = spawnProcess(process.execPath, ['--import', 'tsx', join(FIXTURES, 'parentOfWorker.ts'), via], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const workerPid = await new Promise<number>((resolve) =>
        parent.stdout!.on('data', (chunk: Buffer) => {
          const match = /worker (\d+)/.exec(chunk.toString());
          if (match) resolve(Number(match[1]));
        }),
      );
      expect(alive(workerPid)).toBe(true);
      parent.kill('SIGKILL');
      for (let i = 0; i < 100 && alive(workerPid); i++) await sleep(20);
      expect(alive(workerPid)).toBe(false);
    });
  }
});
