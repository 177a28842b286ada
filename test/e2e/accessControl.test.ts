/**
 * Access control as one user sees it: every server-side link of a transport
 * the kernel can vouch for carries the calling process's real pid, uid and
 * gid; named objects get exactly 0600 (owner) or 0660 (group), directories
 * 0700 / 0750, whatever the umask; a bad `access` value is refused.
 */
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, serve } from 'procwire';
import { native } from '@procwire/native';
import { accessChannel } from '../fixtures/accessChannel.js';
import { layout, startAccessServer, type AccessServerProcess } from '../fixtures/accessProcesses.js';
import { recordHardening } from '../helpers/hardenTally.js';
import { uniqueName } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const servers: AccessServerProcess[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

/** One endpoint of each transport with named objects (and the abstract one, which has none). */
function endpoints() {
  const name = uniqueName('acc');
  return {
    name,
    unix: `unix://${join(dir, `${name}.sock`)}`,
    abstract: `unix:@${name}`,
    fifo: `fifo://${join(dir, name)}`,
    mq: `mq:///${name}`,
    shm: `shm:///${name}`,
  };
}

const mode = (path: string) => lstatSync(path).mode & 0o777;
function queueMode(name: string): number {
  const mqd = native.mqOpen(name, native.constants.O_RDONLY, 0, 0, 0);
  try {
    return native.fstat(mqd).mode & 0o777;
  } finally {
    native.mqClose(mqd);
  }
}

describe.skipIf(process.platform !== 'linux')('access control (one user)', () => {
  it('ctx.peer carries the calling process’s pid, uid and gid as the kernel knows them', async () => {
    const e = endpoints();
    const server = await startAccessServer('owner', [e.unix, e.abstract, e.fifo, e.mq, e.shm]);
    servers.push(server);
    let tried = 0;
    let passed = 0;
    for (const url of server.urls) {
      tried++;
      const client = await connect(accessChannel, url);
      const peer = await client.rpc.whoami();
      await client.close();
      const transport = url.split(':')[0];
      expect(peer.transport).toBe(transport);
      expect(peer.uid).toBe(process.getuid!());
      expect(peer.gid).toBe(process.getgid!());
      // A FIFO has no SO_PEERCRED: the owner of the client's pair says the
      // uid and gid, and nothing says the pid.
      expect(peer.pid).toBe(transport === 'fifo' ? undefined : process.pid);
      passed++;
    }
    recordHardening({
      section: 'access',
      name: 'peer credentials on server links (unix path+abstract, fifo, mq, shm)',
      tried,
      passed,
      detail: 'pid/uid/gid from SO_PEERCRED; fifo: uid/gid of the client pair, no pid',
    });
  });

  for (const umask of ['000', '022']) {
    for (const access of ['owner', 'group'] as const) {
      it(`access '${access}' under umask ${umask}: every named object is exactly ${access === 'owner' ? '0600, directories 0700' : '0660, directories 0750'}`, async () => {
        const e = endpoints();
        const server = await startAccessServer(access, [e.unix, e.fifo, e.mq, e.shm], { umask });
        servers.push(server);
        const object = access === 'owner' ? 0o600 : 0o660;
        const directory = access === 'owner' ? 0o700 : 0o750;
        const shmSocket = layout.shmSocket(e.name, access);
        const mqSocket = layout.mqSocket(e.name, access);
        const seen = {
          'unix socket file': mode(join(dir, `${e.name}.sock`)),
          'fifo well-known FIFO': mode(join(dir, e.name)),
          'mq server queue': queueMode(`/${e.name}`),
          'mq control socket': mode(mqSocket),
          'mq socket directory': mode(dirname(mqSocket)),
          'shm rendezvous socket': mode(shmSocket),
          'shm socket directory': mode(dirname(shmSocket)),
        };
        expect(seen).toEqual({
          'unix socket file': object,
          'fifo well-known FIFO': object,
          'mq server queue': object,
          'mq control socket': object,
          'mq socket directory': directory,
          'shm rendezvous socket': object,
          'shm socket directory': directory,
        });
        // Every object is the server's (this user's), in this user's group.
        for (const path of [join(dir, `${e.name}.sock`), join(dir, e.name), mqSocket, shmSocket]) {
          expect(lstatSync(path).uid).toBe(process.getuid!());
        }
        // The clients' own objects (fifo pairs, mq reply queues) are made
        // and removed while connecting; a connection shows they worked.
        for (const url of server.urls) {
          const client = await connect(accessChannel, url);
          expect((await client.rpc.whoami()).uid).toBe(process.getuid!());
          await client.close();
        }
        await server.stop();
        // Gone with the server, group directories included.
        expect(() => lstatSync(shmSocket)).toThrow();
        expect(() => lstatSync(mqSocket)).toThrow();
        if (access === 'group') {
          expect(() => lstatSync(dirname(shmSocket))).toThrow();
          expect(() => lstatSync(dirname(mqSocket))).toThrow();
        }
        const entries = Object.values(seen);
        recordHardening({
          section: 'access',
          name: `modes, access '${access}', umask ${umask}`,
          tried: entries.length,
          passed: entries.filter((m, i) => m === (Object.keys(seen)[i]!.endsWith('directory') ? directory : object)).length,
          detail: Object.entries(seen)
            .map(([what, m]) => `${what} ${m.toString(8).padStart(4, '0')}`)
            .join(', '),
        });
      });
    }
  }

  it('a second server of the same name in the other access mode never takes over (mq, shm)', async () => {
    let tried = 0;
    let passed = 0;
    for (const [first, second] of [
      ['owner', 'group'],
      ['group', 'owner'],
    ] as const) {
      const e = endpoints();
      const server = await startAccessServer(first, [e.mq, e.shm]);
      servers.push(server);
      for (const url of server.urls) {
        tried++;
        const attempt = serve(
          accessChannel,
          url,
          { whoami: (_i, ctx) => ctx.peer, refusals: () => [] },
          { access: second, shutdownSignals: false },
        );
        const error = await attempt.then(
          async (taken) => (await taken.close(), undefined),
          (reason: { code?: string }) => reason,
        );
        expect(error?.code, `${first} then ${second}: ${url}`).toBe(ErrorCode.ADDRESS_IN_USE);
        // The first server still has its queue and its clients.
        const client = await connect(accessChannel, url);
        expect((await client.rpc.whoami()).pid).toBe(process.pid);
        await client.close();
        passed++;
      }
    }
    recordHardening({ section: 'access', name: 'same name, other access mode: ADDRESS_IN_USE, first server unharmed', tried, passed });
  });

  it('an access value other than owner or group is INVALID_ARGUMENT naming both', async () => {
    const e = endpoints();
    let tried = 0;
    let passed = 0;
    for (const url of [e.unix, e.abstract, e.fifo, e.mq, e.shm]) {
      for (const access of ['world', 'OWNER', 0o666, null]) {
        tried++;
        const attempt = serve(accessChannel, url, { whoami: (_i, ctx) => ctx.peer, refusals: () => [] }, { access: access as never });
        const error = await attempt.then(
          (server) => (void server.close(), undefined),
          (reason: unknown) => reason as { code?: string; message?: string },
        );
        expect(error?.code, `${url} ${String(access)}`).toBe(ErrorCode.INVALID_ARGUMENT);
        expect(error?.message).toMatch(/'owner'.*'group'/);
        passed++;
      }
    }
    // Nothing was created for the refused servers.
    expect(() => lstatSync(join(dir, `${e.name}.sock`))).toThrow();
    expect(() => lstatSync(join(dir, e.name))).toThrow();
    expect(() => native.mqOpen(`/${e.name}`, native.constants.O_RDONLY, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    recordHardening({ section: 'access', name: 'bad access values refused (INVALID_ARGUMENT)', tried, passed });
  });
});
