import { Socket } from 'node:net';
import { ErrorCode, ProcwireError } from '@procwire/core';
import { windowsNative } from '@procwire/native';

/** A listening named pipe whose connections arrive as Node sockets. */
export interface OwnerOnlyPipe {
  close(): void;
}

/**
 * Serves `\\.\pipe\<name>` through the addon's PipeListener rather than
 * Node's `listen()`: every pipe instance admits only the current user (a
 * protected DACL with one ACE for the process token's SID; libuv's instances
 * get Windows' default descriptor, which lets Everyone read) and refuses
 * remote clients. Each connected instance is wrapped in a net.Socket, so the
 * data path is Node's own. A name in use is ADDRESS_IN_USE.
 */
export function listenOwnerOnlyPipe(name: string, describe: string, onSocket: (socket: Socket) => void): OwnerOnlyPipe {
  const { PipeListener } = windowsNative();
  try {
    return new PipeListener(
      name,
      (fd) => onSocket(new Socket({ fd, readable: true, writable: true })),
      // Failing to accept closes the listener: the server stops taking
      // clients, as a Node server does when its handle fails.
      () => {},
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ProcwireError(ErrorCode.ADDRESS_IN_USE, `${describe} is already in use`, { cause: error });
    }
    throw new ProcwireError(ErrorCode.LISTEN_FAILED, `cannot listen on ${describe}: ${(error as Error).message}`, { cause: error });
  }
}
