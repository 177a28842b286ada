/** setParentDeathSignal: a grandchild does not outlive a parent killed with SIGKILL. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '@procwire/native';
import { NATIVE_FIXTURES } from './helpers.js';

/** Whether `pid` still runs (a zombie nobody reaps counts as gone). */
function running(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  for (const deadline = Date.now() + withinMs; Date.now() < deadline;) {
    if (!running(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return !running(pid);
}

/** Starts deathParent.ts and resolves with it and its child's pid once the child is armed. */
function startFamily(mode: 'arm' | 'none'): Promise<{ kill: () => void; grandchild: number }> {
  const parent = spawn(process.execPath, ['--import', 'tsx', join(NATIVE_FIXTURES, 'deathParent.ts'), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^armed (\d+)$/m.exec(out);
      if (match) resolve({ kill: () => parent.kill('SIGKILL'), grandchild: Number(match[1]) });
    });
    parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before its child was armed: ${out}`)));
  });
}

describe.skipIf(process.platform !== 'linux')('setParentDeathSignal', () => {
  it('returns true on Linux, and 0 clears it', () => {
    expect(native.setParentDeathSignal(0)).toBe(true);
  });

  it('kills the child when its parent is SIGKILLed', async () => {
    const { kill, grandchild } = await startFamily('arm');
    expect(running(grandchild)).toBe(true);
    kill();
    expect(await gone(grandchild, 15_000)).toBe(true);
  });

  it('without it, the child outlives its parent (so the test above means something)', async () => {
    const { kill, grandchild } = await startFamily('none');
    kill();
    expect(await gone(grandchild, 500)).toBe(false);
    process.kill(grandchild, 'SIGKILL');
  });
});
