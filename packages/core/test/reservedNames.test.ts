/**
 * Method names starting with `$/` belong to the protocol (`$/ping`,
 * `$/refused`). defineChannel's names never take that form; a channel object
 * made by other means that does is refused by server and client alike, so no
 * contract member is ever served under a name the protocol owns.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createClient, createServer, defineChannel, ErrorCode, ProcwireError } from '@procwire/core';
import { PING_METHOD, REFUSED_NOTIFICATION, RESERVED_METHOD_PREFIX } from '../src/wire/constants.js';
import { MemoryAcceptor, MemoryLink } from '../../../test/helpers/memoryLink.ts';

const legit = defineChannel({ name: 'svc', version: 1, rpc: { ping: { input: z.void(), output: z.void() } } });
/** The same members under a channel name only a hand-made object can have. */
const forged = { ...legit, name: `${RESERVED_METHOD_PREFIX}svc` } as unknown as typeof legit;

function invalidContract(run: () => unknown): ProcwireError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProcwireError);
    expect((error as ProcwireError).code).toBe(ErrorCode.INVALID_CONTRACT);
    return error as ProcwireError;
  }
  throw new Error('expected INVALID_CONTRACT');
}

describe('reserved method names', () => {
  it('the protocol names derive from the reserved prefix', () => {
    expect(PING_METHOD.startsWith(RESERVED_METHOD_PREFIX)).toBe(true);
    expect(REFUSED_NOTIFICATION.startsWith(RESERVED_METHOD_PREFIX)).toBe(true);
  });

  it('defineChannel refuses a channel name in the reserved form', () => {
    invalidContract(() => defineChannel({ name: `${RESERVED_METHOD_PREFIX}svc`, version: 1 }));
  });

  it('a server refuses a hand-made channel whose methods take the reserved form', () => {
    const error = invalidContract(() => createServer(forged, { ping: () => {} }, new MemoryAcceptor()));
    expect(error.message).toContain(RESERVED_METHOD_PREFIX);
  });

  it('a client refuses it too, and closes the link it was given', async () => {
    const [, clientEnd] = MemoryLink.pair();
    const error = await createClient(forged, clientEnd).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProcwireError);
    expect((error as ProcwireError).code).toBe(ErrorCode.INVALID_CONTRACT);
    expect(clientEnd.closed).toBe(true);
  });
});
