/**
 * A message link (src/links/messageLink.ts, under mq and mailslot): its
 * backpressure signal — a send that reports no room is always followed by
 * `drain`, so a stream producer that waits for it goes on; the writer here
 * takes every message at once, as a mailslot does, so it never has a drain of
 * its own to report — and its delivery of one frame per `frames` call, also
 * when several frames share one message.
 */
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { decode, encode, FrameDelimiter, resolveFrameLimits } from '@procwire/core';
import { MessageLink, WHOLE_FRAMES, type MessageWriter } from '../src/links/messageLink.js';

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

/** What one `frames` call carried: the message when it is exactly one frame, else how many frames. */
function oneCall(source: Buffer, start: number, end: number): unknown {
  let frames = 0;
  new FrameDelimiter(resolveFrameLimits()).push(source.subarray(start, end), () => frames++);
  return frames === 1 ? decode(source, start, end) : `${frames} frames in one call`;
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

  it('passes one frame per frames call when small frames of one tick share a message', async () => {
    const sender = linkWithInstantWriter();
    sender.link.start({ frames() {}, drain() {}, close() {} });
    const messages = [
      [1, 1, 'FRAME_TOO_LARGE: too big', null],
      [1, 7, null, 3],
      [2, '$/ping', []],
    ];
    for (const message of messages) sender.link.send(encode(message));
    await new Promise((resolve) => setImmediate(resolve));
    // All three went in one message of whole frames.
    expect(sender.sent.map((message) => message[0])).toEqual([WHOLE_FRAMES]);
    const receiver = linkWithInstantWriter();
    const calls: unknown[] = [];
    receiver.link.start({
      frames: (source, start, end) => void calls.push(oneCall(source, start, end)),
      drain() {},
      close() {},
    });
    receiver.link.receive(sender.sent[0]![0]!, sender.sent[0]!.subarray(1));
    expect(calls).toEqual(messages);
    sender.link.destroy();
    receiver.link.destroy();
  });

  it('passes the frames around a bad one in a shared message one per call', () => {
    const { link } = linkWithInstantWriter();
    const calls: unknown[] = [];
    const dropped: Error[] = [];
    link.start({
      frames: (source, start, end) => void calls.push(oneCall(source, start, end)),
      malformed: (error) => void dropped.push(error),
      drain() {},
      close() {},
    });
    // Two good frames, one nested past the default depth limit, two good ones.
    const tooDeep = Buffer.alloc(200, 0x91);
    tooDeep[199] = 0xc0;
    const payload = Buffer.concat([
      encode([1, 1, null, 1]),
      encode([1, 2, null, 2]),
      tooDeep,
      encode([1, 3, null, 3]),
      encode([1, 4, null, 4]),
    ]);
    link.receive(WHOLE_FRAMES, payload);
    expect(calls).toEqual([1, 2, 3, 4].map((id) => [1, id, null, id]));
    expect(dropped.map((error) => (error as { code?: string }).code)).toEqual(['FRAME_TOO_LARGE']);
    link.destroy();
  });
});
