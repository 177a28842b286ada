/** The loader: lazy, overridable with PROCWIRE_NATIVE_BINARY, and explicit when the binary cannot be used. */
import { writeFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as pkg from '@procwire/native';
import { runFixture, tempPath } from './helpers.js';

describe.skipIf(process.platform === 'win32')('loading the addon', () => {
  it('exports the binding, the loader and its constants', () => {
    expect(Object.keys(pkg).sort()).toEqual(
      ['NATIVE_BINARY_ENV', 'NATIVE_UNAVAILABLE', 'REBUILD_COMMAND', 'loadNative', 'nativeBinaryPath', 'native', 'windowsNative'].sort(),
    );
    // The Windows build's accessor says plainly that it is not this platform's.
    expect(() => pkg.windowsNative()).toThrow(expect.objectContaining({ code: 'ERR_PROCWIRE_NATIVE_UNAVAILABLE' }));
    expect(pkg.loadNative()).toBe(pkg.native);
    expect(pkg.nativeBinaryPath()).toBe(process.env.PROCWIRE_NATIVE_BINARY || pkg.nativeBinaryPath());
    if (!process.env.PROCWIRE_NATIVE_BINARY) expect(pkg.nativeBinaryPath()).toMatch(/build\/Release\/procwire_native\.node$/);
  });

  it('the binding has exactly the declared members', () => {
    expect(Object.keys(pkg.native).sort()).toEqual([
      'FdWatcher',
      'ShmChannel',
      'close',
      'constants',
      'createEventFd',
      'createSegment',
      'fileLockQuery',
      'fileLockTry',
      'fileLockTryShared',
      'fileUnlock',
      'fstat',
      'mkfifo',
      'mqClose',
      'mqGetAttr',
      'mqOpen',
      'mqReceive',
      'mqSend',
      'mqUnlink',
      'open',
      'pipe',
      'segmentInfo',
      'seqpacketConnect',
      'seqpacketListen',
      'setParentDeathSignal',
      'socketAccept',
      'socketPeerCredentials',
      'socketReceive',
      'socketSend',
    ]);
    expect(Object.isFrozen(pkg.native.constants)).toBe(true);
  });

  it('a missing binary: importing works, the first use names the file, the runtime and the fix', async () => {
    const missing = tempPath('.node');
    const run = await runFixture('loadReport.ts', [], { env: { PROCWIRE_NATIVE_BINARY: missing } });
    const [imported, report] = run.stdout.trim().split('\n');
    expect(imported).toBe('imported');
    const { code, message } = JSON.parse(report!) as { code: string; message: string };
    expect(code).toBe('ERR_PROCWIRE_NATIVE_UNAVAILABLE');
    expect(message).toContain(`${missing} does not exist`);
    expect(message).toContain(`ABI ${process.versions.modules}`);
    expect(message).toContain(`${process.platform}-${process.arch}`);
    expect(message).toContain('npx -y pnpm@12.4.2 --filter @procwire/native run build');
  });

  it('a binary that cannot load: the loader says why and keeps the cause', async () => {
    const broken = tempPath('.node');
    writeFileSync(broken, 'not a shared object\n'.repeat(256));
    const run = await runFixture('loadReport.ts', [], { env: { PROCWIRE_NATIVE_BINARY: broken } });
    rmSync(broken);
    const report = JSON.parse(run.stdout.trim().split('\n')[1]!) as { code: string; message: string; hasCause: boolean };
    expect(report).toMatchObject({ code: 'ERR_PROCWIRE_NATIVE_UNAVAILABLE', hasCause: true });
    expect(report.message).toContain(`cannot be loaded from ${broken}`);
    expect(report.message).toContain('invalid ELF header');
    expect(report.message).toContain('--filter @procwire/native run build');
  });
});
