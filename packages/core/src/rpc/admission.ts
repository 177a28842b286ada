import type { PeerInfo } from '../contract/types.js';
import { ErrorCode } from '../errors/codes.js';
import { ProcwireError } from '../errors/ProcwireError.js';
import type { ServerLimits } from './serverLimits.js';

/**
 * Decides whether a server takes a new connection: the `allow` rule, the
 * connection limit and the per-uid limit. Counts what it admitted until
 * `leave` is called for it.
 */
export class Admission {
  private total = 0;
  private readonly perUid = new Map<number, number>();
  private refusedCount = 0;

  constructor(
    private readonly limits: ServerLimits,
    private readonly allow: ((peer: PeerInfo) => boolean) | undefined,
  ) {}

  /** Admits the peer (and counts it) or says why not. */
  enter(peer: PeerInfo): ProcwireError | undefined {
    const refusal = this.check(peer);
    if (refusal) {
      this.refusedCount++;
      return refusal;
    }
    this.total++;
    if (peer.uid !== undefined) this.perUid.set(peer.uid, (this.perUid.get(peer.uid) ?? 0) + 1);
    return undefined;
  }

  leave(peer: PeerInfo): void {
    this.total--;
    if (peer.uid === undefined) return;
    const left = (this.perUid.get(peer.uid) ?? 1) - 1;
    if (left === 0) this.perUid.delete(peer.uid);
    else this.perUid.set(peer.uid, left);
  }

  get refused(): number {
    return this.refusedCount;
  }

  private check(peer: PeerInfo): ProcwireError | undefined {
    if (this.allow) {
      let allowed = false;
      try {
        allowed = this.allow(peer) === true;
      } catch {
        // A throwing rule lets no one in: failing closed is the only safe reading.
      }
      if (!allowed) {
        return new ProcwireError(ErrorCode.ACCESS_DENIED, `the server's allow rule refused this peer (${describePeer(peer)})`);
      }
    }
    const { maxConnections, maxConnectionsPerUid } = this.limits;
    if (this.total >= maxConnections) {
      return new ProcwireError(ErrorCode.TOO_MANY_CONNECTIONS, `the server holds maxConnections (${maxConnections}) connections`, {
        data: { limit: 'maxConnections', value: maxConnections },
      });
    }
    if (peer.uid !== undefined && (this.perUid.get(peer.uid) ?? 0) >= maxConnectionsPerUid) {
      return new ProcwireError(
        ErrorCode.TOO_MANY_CONNECTIONS,
        `the server holds maxConnectionsPerUid (${maxConnectionsPerUid}) connections from uid ${peer.uid}`,
        { data: { limit: 'maxConnectionsPerUid', value: maxConnectionsPerUid } },
      );
    }
    return undefined;
  }
}

function describePeer(peer: PeerInfo): string {
  const parts = [peer.transport];
  if (peer.uid !== undefined) parts.push(`uid ${peer.uid}`);
  if (peer.gid !== undefined) parts.push(`gid ${peer.gid}`);
  if (peer.pid !== undefined) parts.push(`pid ${peer.pid}`);
  if (peer.address !== undefined) parts.push(peer.address);
  return parts.join(', ');
}
