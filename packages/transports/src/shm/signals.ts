import type { Socket } from 'node:net';
import { native, windowsNative, type FdWatcher } from '@procwire/native';

/** The control message of a clean close. */
const GOODBYE = 'BYE\n';

/** What a link hears on its control wire besides frames: a goodbye, or the peer's death. */
interface ControlEvents {
  goodbye(): void;
  /** The wire broke (the peer died) or carried something it must not. */
  gone(why: 'closed' | 'unexpected'): void;
}

/**
 * How a shm: link is woken and learns about its peer, which differs by
 * platform: the doorbell this side's peer rings, and the control wire (the
 * rendezvous connection, kept open for the life of the link).
 */
export interface ShmSignals {
  /** Calls `onRing` whenever this side's bell rings, from the event loop. */
  watch(onRing: () => void, control: ControlEvents): void;
  sayGoodbye(): void;
  /** Stops watching and releases the descriptors or handles (not the channel). */
  close(): void;
}

/**
 * Linux: the bell is an eventfd and the control wire a seqpacket socket,
 * both waited for with uv_poll.
 */
export function eventFdSignals(ownBell: number, peerBell: number, control: number): ShmSignals {
  let bellWatcher: FdWatcher | undefined;
  let controlWatcher: FdWatcher | undefined;
  const buffer = Buffer.alloc(64);
  const goodbye = Buffer.from(GOODBYE);
  return {
    watch(onRing, events) {
      bellWatcher = new native.FdWatcher(ownBell, onRing);
      bellWatcher.watch(native.constants.POLL_READABLE);
      controlWatcher = new native.FdWatcher(control, () => {
        let message: { bytes: number; fds: number[] } | null;
        try {
          message = native.socketReceive(control, buffer);
        } catch {
          return events.gone('closed');
        }
        if (message === null) return;
        for (const fd of message.fds) native.close(fd);
        if (message.bytes === goodbye.length && buffer.subarray(0, goodbye.length).equals(goodbye)) return events.goodbye();
        events.gone(message.bytes === 0 ? 'closed' : 'unexpected');
      });
      controlWatcher.watch(native.constants.POLL_READABLE | native.constants.POLL_DISCONNECT);
    },
    sayGoodbye() {
      try {
        native.socketSend(control, goodbye, []);
      } catch {
        // the peer is gone already
      }
    },
    close() {
      bellWatcher?.close();
      controlWatcher?.close();
      for (const fd of [ownBell, peerBell, control]) {
        try {
          native.close(fd);
        } catch {
          // already closed
        }
      }
    },
  };
}

/**
 * Windows: the bell is a named event waited for on a thread of the addon
 * (BellWatcher), and the control wire the named-pipe connection of the
 * rendezvous, which Windows breaks when the peer dies.
 */
export function eventSignals(channelName: string, side: 0 | 1, control: Socket): ShmSignals {
  let bell: { close(): void } | undefined;
  return {
    watch(onRing, events) {
      bell = new (windowsNative().BellWatcher)(channelName, side, onRing);
      let line = '';
      control.on('data', (chunk: Buffer) => {
        line += chunk.toString('latin1');
        if (line === GOODBYE) events.goodbye();
        else if (!GOODBYE.startsWith(line)) events.gone('unexpected');
      });
      control.on('close', () => events.gone('closed'));
      control.on('error', () => {});
    },
    sayGoodbye() {
      control.write(GOODBYE);
    },
    close() {
      bell?.close();
      control.destroy();
    },
  };
}
