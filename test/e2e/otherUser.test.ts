/**
 * Access control across users (as root: fixture processes run as `nobody`,
 * as `nobody` with another group, and as `daemon`). Every named object of
 * every transport refuses a user the access mode does not cover (EACCES;
 * the abstract socket, which has no mode, closes the connection before
 * reading a byte), the server keeps serving its own user, a member of the
 * server's group gets in with `access: 'group'`, and names another user put
 * in the way are refused naming the owner and left alone.
 */
import { chmodSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, openSemaphore, serve, type Semaphore } from 'procwire';
import { native } from '@procwire/native';
import { accessChannel } from '../fixtures/accessChannel.js';
import type { AccessAttempt, AccessResult } from '../fixtures/accessClient.js';
import {
  DAEMON,
  layout,
  NOBODY,
  otherUsersCanRunFixtures,
  runAccessClient,
  startAccessServer,
  type AccessServerProcess,
} from '../fixtures/accessProcesses.js';
import { recordHardening } from '../helpers/hardenTally.js';
import { uniqueName } from '../helpers/processes.js';

const asRoot = process.platform === 'linux' && process.getuid?.() === 0;
const canSwitch = asRoot && otherUsersCanRunFixtures();

/** A directory anyone may enter and create in (like /tmp), so that each object's own mode is what decides. */
function openDirectory(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o1777);
  return dir;
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function endpoints(dir: string) {
  const name = uniqueName('ou');
  return {
    name,
    unixPath: join(dir, `${name}.sock`),
    fifoPath: join(dir, name),
    queue: `/${name}`,
    urls: [`unix://${join(dir, `${name}.sock`)}`, `unix:@${name}`, `fifo://${join(dir, name)}`, `mq:///${name}`, `shm:///${name}`],
  };
}

async function server(access: 'owner' | 'group', urls: string[], as?: typeof DAEMON): Promise<AccessServerProcess> {
  const started = await startAccessServer(access, urls, as ? { as } : {});
  cleanups.push(() => started.stop());
  return started;
}

/** What a refused attempt must end as: EACCES, or for the abstract socket closed with nothing sent. */
function refusedAsRequired(result: AccessResult): boolean {
  if (result.kind === 'abstract') return result.outcome === 'closed' && result.bytes === 0;
  if (result.kind === 'rpc') return result.outcome !== 'ok';
  return result.outcome === 'EACCES';
}

function summary(results: AccessResult[]): string {
  return results.map((r) => `${r.kind}=${r.outcome}`).join(', ');
}

const rpcAttempts = (urls: string[]): AccessAttempt[] => urls.map((target) => ({ kind: 'rpc', target }));

describe.skipIf(!canSwitch)('access control across users (needs root, and other users able to run Node and the fixtures)', () => {
  it("owner mode: nobody, and nobody in the server's group, are refused by every named object; the server serves its own user", async () => {
    const dir = openDirectory('pw-other-');
    dirs.push(dir);
    const e = endpoints(dir);
    const served = await server('owner', e.urls);
    const semaphoreName = uniqueName('ousem');
    const semaphore: Semaphore = openSemaphore(semaphoreName);
    cleanups.push(() => semaphore.close());
    const sem = layout.semaphoreFiles(semaphoreName);
    const probes: AccessAttempt[] = [
      { kind: 'socket-file', target: e.unixPath },
      { kind: 'abstract', target: e.name },
      { kind: 'fifo-write', target: e.fifoPath },
      { kind: 'fifo-read', target: e.fifoPath },
      { kind: 'queue-write', target: e.queue },
      { kind: 'queue-read', target: e.queue },
      { kind: 'socket-file', target: layout.mqSocket(e.name, 'owner') },
      { kind: 'seqpacket', target: layout.shmSocket(e.name, 'owner') },
      { kind: 'file-rw', target: sem.lock },
      { kind: 'fifo-write', target: sem.bell },
      { kind: 'directory', target: layout.privateDir() },
    ];
    for (const as of [NOBODY, { uid: NOBODY.uid, gid: process.getgid!() }]) {
      const run = await runAccessClient([...probes, ...rpcAttempts(served.urls)], as);
      expect(run.self).toMatchObject({ uid: as.uid, gid: as.gid });
      const raw = run.results.slice(0, probes.length);
      const rpc = run.results.slice(probes.length);
      expect(
        raw.filter((r) => !refusedAsRequired(r)),
        summary(raw),
      ).toEqual([]);
      expect(
        rpc.filter((r) => !refusedAsRequired(r)),
        summary(rpc),
      ).toEqual([]);
      recordHardening({
        section: 'access',
        name: `owner mode: uid ${as.uid} gid ${as.gid} against every named object (unix file+abstract, fifo, mq queue+control, shm, semaphore, runtime dir)`,
        tried: raw.length + rpc.length,
        passed: [...raw, ...rpc].filter(refusedAsRequired).length,
        detail: summary(raw),
      });
    }
    // The abstract socket told its server whom it turned away, and why.
    const own = await connect(accessChannel, served.urls[0]!);
    const refusals = await own.rpc.refusals();
    await own.close();
    expect(refusals.length).toBeGreaterThanOrEqual(2); // one per abstract attempt (and its rpc)
    expect(refusals.every((r) => r.code === ErrorCode.ACCESS_DENIED && r.uid === NOBODY.uid)).toBe(true);
    expect(refusals[0]!.message).toMatch(/uid 65534 \(nobody\).*admits only uid 0 \(root\)/);
    // Its own user is still served everywhere, and sees itself as the peer.
    for (const url of served.urls) {
      const client = await connect(accessChannel, url);
      const peer = await client.rpc.whoami();
      await client.close();
      expect(peer).toMatchObject({ uid: 0, gid: process.getgid!(), ...(url.startsWith('fifo') ? {} : { pid: process.pid }) });
    }
    expect(semaphore.tryAcquire()?.release()).toBeUndefined(); // the semaphore too
  });

  it("group mode: a member of the server's group gets in with its own pid/uid/gid, nobody else does, the owner still does", async () => {
    const dir = openDirectory('pw-group-');
    dirs.push(dir);
    const e = endpoints(dir);
    const served = await server('group', e.urls, DAEMON);
    // The objects as the server made them: 0660 in its group, directories 0750.
    const modes = {
      unix: lstatSync(e.unixPath),
      fifo: lstatSync(e.fifoPath),
      mq: lstatSync(layout.mqSocket(e.name, 'group')),
      mqDir: lstatSync(dirname(layout.mqSocket(e.name, 'group'))),
      shm: lstatSync(layout.shmSocket(e.name, 'group')),
      shmDir: lstatSync(dirname(layout.shmSocket(e.name, 'group'))),
    };
    for (const [what, info] of Object.entries(modes)) {
      expect([what, info.mode & 0o777, info.uid, info.gid]).toEqual([what, what.endsWith('Dir') ? 0o750 : 0o660, DAEMON.uid, DAEMON.gid]);
    }
    const mqd = native.mqOpen(e.queue, native.constants.O_RDONLY, 0, 0, 0);
    const queue = native.fstat(mqd);
    native.mqClose(mqd);
    expect([queue.mode & 0o777, queue.uid, queue.gid]).toEqual([0o660, DAEMON.uid, DAEMON.gid]);

    // A member: uid nobody, the server's gid.
    const member = await runAccessClient(rpcAttempts(served.urls), { uid: NOBODY.uid, gid: DAEMON.gid });
    expect(member.results.map((r) => [r.target, r.outcome, r.detail])).toEqual(served.urls.map((url) => [url, 'ok', undefined]));
    for (const result of member.results) {
      const fifo = result.target.startsWith('fifo');
      expect(result.peer, result.target).toMatchObject({ uid: NOBODY.uid, gid: DAEMON.gid });
      expect(result.peer?.pid, result.target).toBe(fifo ? undefined : member.self.pid);
    }
    recordHardening({
      section: 'access',
      name: "group mode: a member of the server's group (uid nobody, gid daemon) reaches every transport",
      tried: member.results.length,
      passed: member.results.filter((r) => r.outcome === 'ok' && r.peer?.uid === NOBODY.uid).length,
      detail: 'peer uid/gid (and pid but on fifo) are the member’s own',
    });

    // An outsider: nobody, nogroup.
    const probes: AccessAttempt[] = [
      { kind: 'socket-file', target: e.unixPath },
      { kind: 'abstract', target: e.name },
      { kind: 'fifo-write', target: e.fifoPath },
      { kind: 'fifo-read', target: e.fifoPath },
      { kind: 'queue-write', target: e.queue },
      { kind: 'queue-read', target: e.queue },
      { kind: 'socket-file', target: layout.mqSocket(e.name, 'group') },
      { kind: 'directory', target: dirname(layout.mqSocket(e.name, 'group')) },
      { kind: 'seqpacket', target: layout.shmSocket(e.name, 'group') },
      { kind: 'directory', target: dirname(layout.shmSocket(e.name, 'group')) },
    ];
    const outsider = await runAccessClient([...probes, ...rpcAttempts(served.urls)], NOBODY);
    expect(
      outsider.results.filter((r) => !refusedAsRequired(r)),
      summary(outsider.results),
    ).toEqual([]);
    // What a refused procwire client is told: the kernel's EACCES, or (fifo:)
    // that the server did not share with it; the abstract name just hangs up.
    for (const r of outsider.results.slice(probes.length)) {
      if (r.target.startsWith('unix:@')) expect(r.outcome, r.target).toBe(ErrorCode.PEER_GONE);
      else
        expect([r.target, r.outcome, /EACCES|did not share it/.test(r.detail ?? '')]).toEqual([r.target, ErrorCode.CONNECT_FAILED, true]);
    }
    recordHardening({
      section: 'access',
      name: 'group mode: an outsider (nobody, nogroup) against every named object',
      tried: outsider.results.length,
      passed: outsider.results.filter(refusedAsRequired).length,
      detail: summary(outsider.results.slice(0, probes.length)),
    });

    // The server's own user still gets in.
    const owner = await runAccessClient(rpcAttempts(served.urls), DAEMON);
    expect(owner.results.map((r) => [r.outcome, r.peer?.uid])).toEqual(served.urls.map(() => ['ok', DAEMON.uid]));
  });

  it('names another user put in the way are refused, naming the owner, and left alone', async () => {
    const dir = openDirectory('pw-squat-');
    const temp = openDirectory('pw-squat-tmp-');
    dirs.push(dir, temp);
    const name = uniqueName('sq');
    const names = {
      socket: join(dir, `${name}.sock`),
      fifo: join(dir, name),
      queue: `/${name}`,
      privateDir: join(temp, `procwire-${process.getuid!()}`),
      shmGroupDir: join(temp, `procwire-shm-${name}`),
      mqGroupDir: join(temp, `procwire-mq-${name}`),
    };
    cleanups.push(() => {
      try {
        native.mqUnlink(names.queue);
      } catch {
        // not made
      }
    });
    const squat = await runAccessClient(
      [
        { kind: 'squat-socket', target: names.socket },
        { kind: 'squat-fifo', target: names.fifo },
        { kind: 'squat-queue', target: names.queue },
        { kind: 'squat-directory', target: names.privateDir },
        { kind: 'squat-directory', target: names.shmGroupDir },
        { kind: 'squat-directory', target: names.mqGroupDir },
      ],
      NOBODY,
    );
    expect(squat.results.map((r) => r.outcome)).toEqual(squat.results.map(() => 'ok'));

    const handlers = { whoami: () => ({ transport: 'none' }), refusals: () => [] };
    const attempts: Array<[string, () => Promise<unknown>, string]> = [
      [
        'unix socket file',
        () => serve(accessChannel, `unix://${names.socket}`, handlers, { shutdownSignals: false }),
        ErrorCode.ADDRESS_IN_USE,
      ],
      [
        'well-known FIFO',
        () => serve(accessChannel, `fifo://${names.fifo}`, handlers, { shutdownSignals: false }),
        ErrorCode.ADDRESS_IN_USE,
      ],
      ['message queue', () => serve(accessChannel, `mq://${names.queue}`, handlers, { shutdownSignals: false }), ErrorCode.ADDRESS_IN_USE],
      // The temp directory is where the runtime directories go: point it at the squatted one.
      [
        'private runtime dir (shm)',
        () => withTemp(temp, () => serve(accessChannel, `shm:///${name}`, handlers, { shutdownSignals: false })),
        ErrorCode.LISTEN_FAILED,
      ],
      [
        'private runtime dir (mq)',
        () => withTemp(temp, () => serve(accessChannel, `mq:///${name}x`, handlers, { shutdownSignals: false })),
        ErrorCode.LISTEN_FAILED,
      ],
      ['private runtime dir (semaphore)', () => withTemp(temp, async () => openSemaphore(name)), ErrorCode.LISTEN_FAILED],
      [
        'shm group endpoint dir',
        () => withTemp(temp, () => serve(accessChannel, `shm:///${name}`, handlers, { access: 'group', shutdownSignals: false })),
        ErrorCode.ADDRESS_IN_USE,
      ],
      [
        'mq group endpoint dir',
        () => withTemp(temp, () => serve(accessChannel, `mq:///${name}`, handlers, { access: 'group', shutdownSignals: false })),
        ErrorCode.ADDRESS_IN_USE,
      ],
    ];
    let passed = 0;
    const seen: string[] = [];
    for (const [what, attempt, code] of attempts) {
      const error = await attempt().then(
        () => undefined,
        (reason: { code?: string; message?: string }) => reason,
      );
      seen.push(`${what}: ${error?.code}`);
      expect(error?.code, what).toBe(code);
      expect(error?.message, what).toContain('uid 65534 (nobody)');
      passed++;
    }
    // All still there, still nobody's.
    for (const path of [names.socket, names.fifo, names.privateDir, names.shmGroupDir, names.mqGroupDir]) {
      expect(lstatSync(path).uid, path).toBe(NOBODY.uid);
    }
    const mqd = native.mqOpen(names.queue, native.constants.O_RDONLY, 0, 0, 0);
    expect(native.fstat(mqd).uid).toBe(NOBODY.uid);
    native.mqClose(mqd);
    recordHardening({
      section: 'access',
      name: 'names pre-created by another user (socket file, FIFO, queue, runtime dir, group dirs) refused and kept',
      tried: attempts.length,
      passed,
      detail: seen.join('; '),
    });
  });
});

/** Runs `action` with the temp directory (and so the runtime directories) at `dir`. */
async function withTemp<T>(dir: string, action: () => Promise<T>): Promise<T> {
  const saved = { TMPDIR: process.env.TMPDIR, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR };
  process.env.TMPDIR = dir;
  delete process.env.XDG_RUNTIME_DIR;
  try {
    return await action();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
