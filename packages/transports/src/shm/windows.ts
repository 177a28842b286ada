/**
 * The Windows half of `shm:///name` (see shm/index.ts for the contract): the same
 * rings (src/common/ring.h) in a named file mapping `Local\procwire-shm-<name>-<random>`
 * with named events as doorbells, all created by the addon for the current
 * user only. The rendezvous is a named pipe `\\.\pipe\procwire-shm-<name>`
 * (owner-only, the server's lock): a client says `PWSHM/1`, the server
 * creates a new channel under an unguessable name and answers
 * `PWSHM/1 <channel> <ringBytes>`. The pipe connection stays open for the
 * life of the link: Windows breaks it when either process dies.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { ErrorCode, ProcwireError, type Link, type LinkAcceptor } from '@procwire/core';
import { windowsNative } from '@procwire/native';
import { connectWithRetry } from '../links/connectRetry.js';
import { EarlyArrivals } from '../links/earlyArrivals.js';
import { readFirstLine } from '../handshake/firstLine.js';
import { admitHandshake } from '../handshake/admission.js';
import { checkFrameLimits } from '../options.js';
import { HandshakeGate, handshakeLimitRefusal } from '../handshake/gate.js';
import { listenOwnerOnlyPipe } from '../windows/pipeListener.js';
import { ShmLink } from './link.js';
import { eventSignals } from './signals.js';
import type { WaitPolicy } from './wait.js';
import type { TransportConnectOptions, ListenOptions } from '../transport.js';

const HELLO = 'PWSHM/1\n';
const OFFER = /^PWSHM\/1 ([A-Za-z0-9._-]{1,200}) (\d{1,10})\n$/;
/** The longest handshake line accepted on the rendezvous pipe. */
const HANDSHAKE_LINE_BYTES = 256;
const SERVER_SIDE = 0;
const CLIENT_SIDE = 1;

export interface WindowsShmEndpoint {
  readonly name: string;
  readonly wait: WaitPolicy;
  readonly ringBytes: number;
}

function pipeName(name: string): string {
  return `procwire-shm-${name}`;
}

export async function listenWindows(shm: WindowsShmEndpoint, url: string, options: ListenOptions): Promise<LinkAcceptor> {
  const limits = checkFrameLimits(options.limits);
  const { ShmChannel } = windowsNative();
  const connections = new EarlyArrivals<Socket>();
  const pipe = listenOwnerOnlyPipe(pipeName(shm.name), url, connections.arrive);
  const gate = new HandshakeGate();
  const handshake = (socket: Socket, onLink: (link: Link) => void) => {
    socket.on('error', () => {});
    // Until its hello arrived, a pipe connection holds a slot of the gate.
    const slot = admitHandshake(gate, { transport: 'shm', address: url }, options, () => socket.destroy());
    if (!slot) return;
    socket.once('close', slot.release);
    readFirstLine(socket, HANDSHAKE_LINE_BYTES, (line) => {
      slot.release();
      if (line !== HELLO) return socket.destroy();
      const channelName = `${shm.name}-${randomBytes(16).toString('hex')}`;
      let channel;
      try {
        channel = new ShmChannel(channelName, SERVER_SIDE, shm.ringBytes, limits.maxFrameBytes, true);
      } catch {
        return socket.destroy();
      }
      socket.write(`PWSHM/1 ${channelName} ${shm.ringBytes}\n`);
      onLink(
        new ShmLink({
          peer: { transport: 'shm', address: url },
          limits,
          channel,
          capacity: shm.ringBytes,
          signals: eventSignals(channelName, SERVER_SIDE, socket),
          wait: shm.wait,
        }),
      );
    });
  };
  let closing: Promise<void> | undefined;
  return {
    url,
    start(onLink) {
      connections.start((socket) => handshake(socket, onLink));
    },
    close() {
      closing ??= (async () => {
        gate.close();
        pipe.close();
      })();
      return closing;
    },
  };
}

export async function connectWindows(shm: WindowsShmEndpoint, url: string, options: TransportConnectOptions): Promise<Link> {
  const limits = checkFrameLimits(options.limits);
  const socket = await connectWithRetry(
    url,
    options.waitMs ?? 0,
    () =>
      new Promise<Socket>((resolve, reject) => {
        const s = createConnection(`\\\\.\\pipe\\${pipeName(shm.name)}`);
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      }),
  );
  socket.on('error', () => {});
  try {
    socket.write(HELLO);
    const line = await new Promise<string>((resolve, reject) => {
      readFirstLine(socket, HANDSHAKE_LINE_BYTES, resolve);
      socket.once('close', () => reject(handshakeLimitRefusal(url, { or: 'or it is closing, or could not make this connection' })));
    });
    const offer = OFFER.exec(line);
    const ringBytes = Number(offer?.[2]);
    if (!offer || !(ringBytes >= 4096 && ringBytes <= 2 ** 30 && (ringBytes & (ringBytes - 1)) === 0)) {
      throw new ProcwireError(ErrorCode.PROTOCOL, `${url} offered an unusable connection: ${JSON.stringify(line)}`);
    }
    const channelName = offer[1]!;
    const channel = new (windowsNative().ShmChannel)(channelName, CLIENT_SIDE, ringBytes, limits.maxFrameBytes, false);
    return new ShmLink({
      peer: { transport: 'shm', address: url },
      limits,
      channel,
      capacity: ringBytes,
      signals: eventSignals(channelName, CLIENT_SIDE, socket),
      wait: shm.wait,
    });
  } catch (error) {
    socket.destroy();
    throw error instanceof ProcwireError
      ? error
      : new ProcwireError(ErrorCode.CONNECT_FAILED, `cannot connect to ${url}: ${(error as Error).message}`, { cause: error });
  }
}
