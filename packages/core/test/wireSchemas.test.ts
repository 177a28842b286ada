/**
 * Schemas the wire cannot satisfy (src/contract/wireSchemas.ts): defineChannel
 * refuses a schema that no value arriving over MessagePack could pass, naming
 * the field; the nil repair of src/contract/validate.ts lets `undefined`
 * inside arrays arrive as sent.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decode, defineChannel, encode, ErrorCode, ProcwireError } from '../src/index.js';
import { validate } from '../src/contract/validate.js';
import { mustRunSchema } from '../src/contract/wireSchemas.js';

function refusal(define: () => unknown): ProcwireError {
  try {
    define();
  } catch (error) {
    expect(error).toBeInstanceOf(ProcwireError);
    expect((error as ProcwireError).code).toBe(ErrorCode.INVALID_CONTRACT);
    return error as ProcwireError;
  }
  throw new Error('expected defineChannel to refuse the contract');
}

const ok = z.object({ id: z.string() });

describe('defineChannel refuses schemas the wire cannot carry, naming the field', () => {
  it.each([
    [
      'a bigint field',
      { rpc: { get: { input: z.object({ id: z.bigint() }), output: z.void() } } },
      'rpc.get.input.id',
      /z\.bigint\(\).*arrives as a number/,
    ],
    ['a bigint literal', { rpc: { get: { input: ok, output: z.literal(5n) } } }, 'rpc.get.output', /bigint literal/],
    [
      'a Map',
      { rpc: { get: { input: ok, output: z.object({ byId: z.map(z.string(), z.number()) }) } } },
      'rpc.get.output.byId',
      /plain object; use z\.record/,
    ],
    ['a Set in an array', { events: { changed: z.array(z.set(z.string())) } }, 'events.changed[]', /arrives as an array/],
    [
      'a typed array',
      { streams: { samples: { input: ok, output: z.instanceof(Float64Array) } } },
      'streams.samples.output',
      /Float64Array.*Uint8Array/,
    ],
    [
      'an ArrayBuffer in a tuple',
      { rpc: { put: { input: z.tuple([z.string(), z.instanceof(ArrayBuffer)]), output: z.void() } } },
      'rpc.put.input[1]',
      /ArrayBuffer/,
    ],
    [
      'a Map behind optional, union and record',
      { rpc: { get: { input: ok, output: z.record(z.string(), z.union([z.string(), z.map(z.string(), z.string()).optional()])) } } },
      'rpc.get.output.*',
      /Map/,
    ],
    ['a function', { rpc: { get: { input: ok, output: z.object({ cb: z.function() }) } } }, 'rpc.get.output.cb', /function/],
    [
      'a symbol in a lazy (recursive) schema',
      { rpc: { get: { input: ok, output: z.lazy(() => z.object({ s: z.symbol() })) } } },
      'rpc.get.output.s',
      /symbol/,
    ],
  ])('%s', (_, members, path, reason) => {
    const error = refusal(() => defineChannel({ name: 'shop', version: 1, ...members } as never));
    expect(error.message).toContain(`${path}: `);
    expect(error.message).toMatch(reason);
  });

  it('accepts what arrives as declared: coerced bigints, bytes, dates, transforms of wire values, recursive schemas', () => {
    type Tree = { value: number; children: Tree[] };
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ value: z.number(), children: z.array(tree) }));
    expect(() =>
      defineChannel({
        name: 'ok',
        version: 1,
        rpc: {
          big: { input: z.coerce.bigint<bigint>(), output: z.instanceof(Uint8Array) },
          when: { input: z.date(), output: z.instanceof(Buffer) },
          // A transform's result never crosses the wire: it may be a Map.
          index: { input: z.array(z.string()), output: z.array(z.string()).transform((a) => new Map(a.map((s) => [s, s]))) },
          tree: { input: tree, output: z.array(z.number().optional()) },
        },
      }),
    ).not.toThrow();
  });

  it('z.coerce.bigint() takes a bigint whichever integer form it arrived in', async () => {
    const schema = z.coerce.bigint<bigint>();
    for (const sent of [5n, 2n ** 60n, -(2n ** 53n)]) {
      expect(await validate(schema, decode(encode(sent)))).toEqual({ ok: true, value: sent });
    }
  });
});

describe('undefined inside arrays arrives as sent', () => {
  it('a nil where the schema wants undefined validates as undefined, at any depth', async () => {
    const schema = z.object({ list: z.array(z.number().optional()), pairs: z.array(z.tuple([z.string(), z.number().optional()])) });
    const sent = {
      list: [1, undefined, 3],
      pairs: [
        ['a', undefined],
        ['b', 2],
      ],
    };
    const arrived = decode(encode(sent));
    expect(arrived).toEqual({
      list: [1, null, 3],
      pairs: [
        ['a', null],
        ['b', 2],
      ],
    });
    const checked = await validate(schema, arrived);
    expect(checked.ok).toBe(true);
    expect(checked.ok && checked.value).toStrictEqual(sent);
  });

  it('a schema that accepts null still sees null, and other failures keep their issues', async () => {
    expect(await validate(z.array(z.number().nullable()), [1, null])).toStrictEqual({ ok: true, value: [1, null] });
    const bad = await validate(z.array(z.number()), [1, null]);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.issues[0]!.path).toEqual([1]);
  });

  it('with validate: false, schemas whose output differs from what arrived still run', () => {
    expect(mustRunSchema(z.number())).toBe(false);
    expect(mustRunSchema(z.object({ a: z.array(z.string()), b: z.number().optional() }))).toBe(false);
    expect(mustRunSchema(z.string().transform((s) => s.length))).toBe(true);
    expect(mustRunSchema(z.object({ n: z.number().default(1) }))).toBe(true);
    expect(mustRunSchema(z.object({ at: z.coerce.date() }))).toBe(true);
    expect(mustRunSchema(z.array(z.number().optional()))).toBe(true);
  });
});
