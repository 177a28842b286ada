/**
 * A message link's backpressure signal (src/links/messageLink.ts): a send
 * that reports no room is always followed by `drain`, so a stream producer
 * that waits for it goes on. The writer here takes every message at once, as
 * a mailslot does: it never has a drain of its own to report.
 */
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MessageLink, type MessageWriter } from '../src/links/messageLink.js';

function linkWithInstantWriter(): { link: MessageLink; sent: Buffer[] } {
  const sent: Buffer[] = [];
  const writer: MessageWriter = {
    queuedBytes: 0,
    send: (message) => void sent.push(message),
    flushed: () => Promise.resolve(),
    close() {},
  };
  const link = new MessageLink({
    peer: { pid: undefined, uid: undefined, gid: undefined } as never,
    mechanism: 'test',
    writer,
    prefix: Buffer.alloc(0),
    messageSize: 8192,
    control: new Socket(),
    release() {},
  });
  return { link, sent };
}

describe('MessageLink', () => {
  it('reports drain after a send that found no room, though the writer never queued', async () => {
    const { link, sent } = linkWithInstantWriter();
    let drains = 0;
    const drained = new Promise<void>((resolve) => link.start({ frames() {}, drain: () => (drains++, resolve()), close() {} }));
    // Small frames of one tick wait to be packed at its end: 2 MiB of them pass the high-water mark.
    let refused = 0;
    for (let i = 0; i < 400; i++) if (!link.send(Buffer.alloc(5000, i & 0xff))) refused++;
    expect(refused).toBeGreaterThan(0);
    expect(drains).toBe(0); // never from within send
    const timeout = new Promise<'no drain'>((resolve) => setTimeout(() => resolve('no drain'), 10_000).unref());
    expect(await Promise.race([drained.then(() => 'drained'), timeout])).toBe('drained');
    expect(sent.length).toBeGreaterThan(0);
    link.destroy();
  });
});
