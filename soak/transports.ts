/** The Linux transports a soak covers, and the endpoint each uses for a run named `runId`. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SoakTarget } from './protocol.js';

export interface SoakTransport {
  readonly id: string;
  readonly target: (runId: string) => SoakTarget;
}

export const TRANSPORTS: readonly SoakTransport[] = [
  { id: 'unix', target: (id) => ({ url: `unix://${join(tmpdir(), `${id}.sock`)}` }) },
  { id: 'abstract', target: (id) => ({ url: `unix:@${id}` }) },
  { id: 'tcp', target: () => ({ url: 'tcp://127.0.0.1:0' }) },
  { id: 'socketpair', target: () => ({ via: 'socketpair:' }) },
  { id: 'pipe', target: () => ({ via: 'pipe:' }) },
  { id: 'fifo', target: (id) => ({ url: `fifo://${join(tmpdir(), id)}` }) },
  { id: 'mq', target: (id) => ({ url: `mq:///${id}` }) },
  { id: 'shm', target: (id) => ({ url: `shm:///${id}` }) },
  { id: 'shm-sleep', target: (id) => ({ url: `shm:///${id}?wait=sleep` }) },
];
