import type { Socket } from 'node:net';
import { native, type PeerCredentials } from '@procwire/native';

/**
 * The kernel's record of who is at the other end of a connected Unix socket
 * (Linux SO_PEERCRED); undefined where the platform or the socket cannot tell.
 */
export function peerCredentialsOf(socket: Socket): PeerCredentials | undefined {
  if (process.platform !== 'linux') return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return native.socketPeerCredentials(fd);
  } catch {
    return undefined;
  }
}
