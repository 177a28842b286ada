import { tmpdir } from 'node:os';

/**
 * The tour's rows: one entry per way of reaching a server. A new transport
 * joins the tour by adding an entry here; the tour runs every entry whose
 * scheme availableSchemes() lists, and flags available schemes that have no
 * entry, so a transport cannot ship without being toured.
 */
export interface TransportEntry {
  /** Row label in the table. */
  readonly name: string;
  /** Scheme as availableSchemes() lists it (no colon). */
  readonly scheme: string;
  /** Where the entry makes sense, when narrower than where the scheme is available. */
  readonly platforms?: readonly NodeJS.Platform[];
  /**
   * 'server': the tour starts server.ts at `endpoint`, then a client at the
   * URL the server reports. 'worker': only the client is started; it spawns
   * the server as its worker (the parent side of `socketpair:` and `pipe:`).
   */
  readonly launch: 'server' | 'worker';
  /**
   * The endpoint URL. `dir` is an empty private directory for names in the
   * file system; after the server stops it must be empty again.
   */
  endpoint(dir: string): string;
  /** Names outside `dir` the transport creates and must remove (message queues, shared memory). */
  leftovers?(url: string): string[];
}

export const transportEntries: TransportEntry[] = [
  { name: 'unix (path)', scheme: 'unix', launch: 'server', endpoint: (dir) => `unix://${dir}/calc.sock` },
  {
    name: 'unix (abstract)',
    scheme: 'unix',
    platforms: ['linux'],
    launch: 'server',
    endpoint: () => `unix:@procwire-tour-${process.pid}`,
  },
  { name: 'tcp', scheme: 'tcp', launch: 'server', endpoint: () => 'tcp://127.0.0.1:0' },
  { name: 'socketpair', scheme: 'socketpair', launch: 'worker', endpoint: () => 'socketpair:' },
  { name: 'pipe', scheme: 'pipe', launch: 'worker', endpoint: () => 'pipe:' },
  { name: 'fifo', scheme: 'fifo', launch: 'server', endpoint: (dir) => `fifo://${dir}/calc` },
  {
    name: 'mq',
    scheme: 'mq',
    platforms: ['linux'],
    launch: 'server',
    endpoint: () => `mq:///procwire-tour-${process.pid}`,
  },
  {
    name: 'npipe',
    scheme: 'npipe',
    platforms: ['win32'],
    launch: 'server',
    endpoint: () => `npipe://./pipe/procwire-tour-${process.pid}`,
  },
  {
    name: 'mailslot',
    scheme: 'mailslot',
    platforms: ['win32'],
    launch: 'server',
    endpoint: () => `mailslot://./mailslot/procwire-tour-${process.pid}`,
  },
  {
    name: 'shm',
    scheme: 'shm',
    platforms: ['linux', 'win32'],
    launch: 'server',
    endpoint: () => `shm:///procwire-tour-${process.pid}`,
    // The rendezvous socket; the segments have no names at all.
    leftovers: () => [
      `${process.env.XDG_RUNTIME_DIR || tmpdir()}/procwire-${process.getuid?.() ?? 0}/shm-procwire-tour-${process.pid}.sock`,
    ],
  },
];
