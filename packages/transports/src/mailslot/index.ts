/**
 * `mailslot://./mailslot/name` — Windows mailslots.
 *
 * Contract (beyond the one every transport keeps: transport.ts)
 * - Mailslots are one-way and keep message boundaries, so a connection is a
 *   pair of them: the server reads `\\.\mailslot\name`; every client creates
 *   its own reply mailslot `\\.\mailslot\name.<id>` and writes to the
 *   server's. Both are created by the addon with a DACL that admits only the
 *   current user. Each message carries one chunk of a frame: a chunk byte, on
 *   the server's mailslot the sender's 16-byte id, then payload (at most
 *   MESSAGE_BYTES in all), so frames up to the frame limit travel; the small
 *   frames of one tick share a message (see links/messageLink.ts).
 * - Liveness: a mailslot cannot tell that its reader or writer died (under
 *   Wine a write to a vanished reader even succeeds). So each connection
 *   also holds a named-pipe connection to the server's control pipe
 *   `\\.\pipe\procwire-mailslot-<name>`; it carries only the client's id and
 *   the server's acknowledgement, and when either process dies Windows
 *   breaks it. The control pipe is also the server's lock: a second
 *   server gets ADDRESS_IN_USE.
 * - Cleanup: mailslot and pipe names vanish with their last handle; a killed
 *   process leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { ErrorCode, ProcwireError, type Link, type LinkAcceptor } from '@procwire/core';
import { windowsNative, type MailslotReader, type MailslotWriter } from '@procwire/native';
import { connectWithRetry } from '../links/connectRetry.js';
import { invalidEndpoint, type Endpoint } from '../endpoint.js';
import { MessageLink, type MessageWriter } from '../links/messageLink.js';
import { EarlyArrivals } from '../links/earlyArrivals.js';
import { readFirstLine } from '../handshake/firstLine.js';
import { listenOwnerOnlyPipe } from '../windows/pipeListener.js';
import type { TransportConnectOptions, ListenOptions, Transport } from '../transport.js';

const NAME = /^\/mailslot\/([A-Za-z0-9._-]{1,200})$/;
const ID_BYTES = 16;
/**
 * The largest message written, header included: below what a local mailslot
 * takes on Windows (64 KiB) and under Wine (212,960 bytes).
 */
const MESSAGE_BYTES = 60 * 1024;
const HELLO_LINE = /^PWMS\/1 ([0-9a-f]{32})\n$/;
const ACK = 'OK\n';
/** The longest handshake line accepted on the control pipe. */
const HANDSHAKE_LINE_BYTES = 64;

function slotName(endpoint: Endpoint): string {
  if (endpoint.host !== '.') {
    throw invalidEndpoint(
      endpoint.url,
      `mailslots are served on this machine only: write mailslot://./mailslot/name (not "${endpoint.host}")`,
    );
  }
  const name = NAME.exec(endpoint.path)?.[1];
  if (!name) throw invalidEndpoint(endpoint.url, 'expected mailslot://./mailslot/name, a name of letters, digits, ".", "_" or "-"');
  if ([...endpoint.searchParams.keys()].length > 0) throw invalidEndpoint(endpoint.url, 'mailslot: URLs take no options');
  return name;
}

/** The control pipe: the server's lock and every connection's liveness wire. */
function controlPipeName(name: string): string {
  return `procwire-mailslot-${name}`;
}

/** A mailslot write never waits on Windows, so nothing is ever held back here. */
class MailslotSender implements MessageWriter {
  readonly queuedBytes = 0;

  constructor(
    private readonly writer: MailslotWriter,
    private readonly onError: (error: Error) => void,
  ) {}

  send(message: Buffer): void {
    try {
      this.writer.write(message);
    } catch (error) {
      this.onError(error as Error);
    }
  }

  flushed(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.writer.close();
  }
}

function mailslotError(error: unknown, doing: string): ProcwireError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ProcwireError(
    code === 'EEXIST' ? ErrorCode.ADDRESS_IN_USE : ErrorCode.LISTEN_FAILED,
    `cannot ${doing}: ${(error as Error).message}`,
    {
      cause: error,
    },
  );
}

async function listen(endpoint: Endpoint, options: ListenOptions): Promise<LinkAcceptor> {
  const name = slotName(endpoint);
  const url = `mailslot://./mailslot/${name}`;
  const { MailslotReader: Reader, MailslotWriter: Writer } = windowsNative();
  const links = new Map<string, MessageLink>();
  const connections = new EarlyArrivals<Socket>();
  const control = listenOwnerOnlyPipe(controlPipeName(name), url, connections.arrive);
  let reader: MailslotReader;
  try {
    reader = new Reader(name, MESSAGE_BYTES, (message) => {
      if (message.length < 1 + ID_BYTES) return;
      links.get(message.toString('hex', 1, 1 + ID_BYTES))?.receive(message[0]!, message.subarray(1 + ID_BYTES));
    });
  } catch (error) {
    control.close();
    throw mailslotError(error, `create the mailslot of ${url}`);
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    start(onLink) {
      connections.start((socket: Socket) => {
        socket.on('error', () => {});
        readFirstLine(socket, HANDSHAKE_LINE_BYTES, (line) => {
          const id = HELLO_LINE.exec(line)?.[1];
          if (!id) return socket.destroy();
          let writer: MailslotWriter;
          try {
            writer = new Writer(`${name}.${id}`);
          } catch {
            return socket.destroy();
          }
          let link: MessageLink;
          const sender = new MailslotSender(writer, (error) => link.destroy(error));
          link = new MessageLink({
            mechanism: 'mailslot',
            peer: { transport: 'mailslot', address: `${url} (client ${id.slice(0, 8)})` },
            limits: options.limits,
            writer: sender,
            prefix: Buffer.alloc(0),
            messageSize: MESSAGE_BYTES,
            control: socket,
            release: () => links.delete(id),
          });
          links.set(id, link);
          socket.write(ACK);
          onLink(link);
        });
      });
    },
    close() {
      closing ??= (async () => {
        control.close();
        reader.close();
      })();
      return closing;
    },
  };
}

async function connect(endpoint: Endpoint, options: TransportConnectOptions): Promise<Link> {
  const name = slotName(endpoint);
  const url = `mailslot://./mailslot/${name}`;
  const { MailslotReader: Reader, MailslotWriter: Writer } = windowsNative();
  const id = randomBytes(ID_BYTES);
  let link: MessageLink | undefined;
  // The reply mailslot exists before the server hears of it.
  let reader: MailslotReader;
  try {
    reader = new Reader(`${name}.${id.toString('hex')}`, MESSAGE_BYTES, (message) => {
      if (message.length >= 1) link?.receive(message[0]!, message.subarray(1));
    });
  } catch (error) {
    throw new ProcwireError(ErrorCode.CONNECT_FAILED, `cannot create a reply mailslot for ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let socket: Socket | undefined;
  let writer: MailslotWriter | undefined;
  try {
    socket = await connectWithRetry(
      url,
      options.waitMs ?? 0,
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = createConnection(`\\\\.\\pipe\\${controlPipeName(name)}`);
          s.once('connect', () => {
            s.off('error', reject);
            resolve(s);
          });
          s.once('error', reject);
        }),
    );
    const control = socket;
    control.on('error', () => {});
    try {
      writer = new Writer(name);
    } catch (error) {
      throw new ProcwireError(ErrorCode.CONNECT_FAILED, `cannot open the mailslot of ${url}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    control.write(`PWMS/1 ${id.toString('hex')}\n`);
    await new Promise<void>((resolve, reject) => {
      readFirstLine(control, HANDSHAKE_LINE_BYTES, (line) =>
        line === ACK ? resolve() : reject(new ProcwireError(ErrorCode.PROTOCOL, `${url} answered the connection request wrongly`)),
      );
      control.once('close', () => reject(new ProcwireError(ErrorCode.CONNECT_FAILED, `${url} refused the connection`)));
    });
  } catch (error) {
    socket?.destroy();
    writer?.close();
    reader.close();
    throw error;
  }
  const sender = new MailslotSender(writer, (error) => link?.destroy(error));
  link = new MessageLink({
    mechanism: 'mailslot',
    peer: { transport: 'mailslot', address: url },
    limits: options.limits,
    writer: sender,
    prefix: id,
    messageSize: MESSAGE_BYTES,
    control: socket,
    release: () => reader.close(),
  });
  return link;
}

export const mailslotTransport: Transport = {
  scheme: 'mailslot',
  platforms: ['win32'],
  listen,
  connect,
};
