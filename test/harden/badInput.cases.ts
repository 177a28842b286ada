/**
 * The bad-input catalogue of issue 6: every kind of hostile input, as the
 * bytes a peer sends and what the server must make of them (see Expect).
 * The mutation sweep over valid frames is in badInput.mutations.ts.
 */
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_FRAME_BYTES } from 'procwire/link';
import { MAX_COUNT } from '../fixtures/hardenContract.js';
import type { Answer, BadInputCase, BadInputKind, Expect } from './badInput.case.js';
import {
  arrayHeader,
  binHeader,
  cat,
  hex,
  HELLO,
  int64,
  mapHeader,
  mp,
  nestedArrays,
  nestedMaps,
  rawMap,
  rawRequest,
  rawStr,
  rawStreamOpen,
  request,
  strHeader,
  streamOpen,
  uint64,
  type Bytes,
} from './badInput.bytes.js';

const MAX = DEFAULT_MAX_FRAME_BYTES;
const U64_MAX = 2n ** 64n - 1n;

const refused: Expect = { framing: 'refused' };
const incomplete: Expect = { framing: 'incomplete' };
/** Whole frames that must be dropped without an answer (and counted `counted` times). */
const dropped = (counted = 1): Expect => ({ answers: [], counted });
const answers = (...list: Answer[]): Expect => ({ answers: list });
const error = (id: number, ...codes: string[]): Answer => ({ id, error: codes });
const ok = (id: number, result: unknown): Answer => ({ id, result });
/** An undecodable request whose msgid can be read: reported, and answered with PROTOCOL (protocol section 2.4). */
const undecodableRequest: Expect = { answers: [{ id: 1, error: ['PROTOCOL'] }], counted: 1 };
const check = (id: number, problem: (result: unknown) => string | undefined): Answer => ({ id, check: problem });

const one = (name: string, bytes: Bytes, expect: Expect, more: Partial<BadInputCase> = {}): BadInputCase => ({
  name,
  units: [bytes],
  expect,
  ...more,
});

/** `[0, 1, "harden.echo", [` followed by raw bytes: a request whose argument starts with them. */
const echoOf = (argument: Bytes, id = 1) => request(id, 'harden.echo', argument);
const add = (id: number, a: Bytes, b: Bytes = mp(2)) =>
  request(
    id,
    'harden.add',
    rawMap([
      [mp('a'), a],
      [mp('b'), b],
    ]),
  );
/** Bytes of an echo request of a bin32 besides the bin's own bytes. */
const ECHO_OVERHEAD = echoOf(binHeader(0, 32)).length;
/** An echo request of exactly `total` bytes (a bin argument filling the rest). */
const echoOfSize = (total: number, id = 1): Buffer =>
  echoOf(cat(binHeader(total - ECHO_OVERHEAD, 32), Buffer.alloc(total - ECHO_OVERHEAD, 0x5a)), id);
const binOfLength = (length: number) => (result: unknown) =>
  result instanceof Uint8Array && result.length === length
    ? undefined
    : `expected ${length} bytes back, got ${String((result as Uint8Array)?.length)}`;
const depthOf = (value: unknown): number => (Array.isArray(value) ? 1 + Math.max(0, ...value.map(depthOf)) : 0);

const lengthClaims: BadInputKind = {
  kind: 'length claims (4 GiB)',
  cases: [
    one('str32 of 4 GiB as a frame', hex('db ffffffff'), refused),
    one('bin32 of 4 GiB as a frame', hex('c6 ffffffff'), refused),
    one('ext32 (timestamp type) of 4 GiB as a frame', hex('c9 ffffffff ff'), refused),
    one('array32 of 2^32-1 elements as a frame', hex('dd ffffffff'), refused),
    one('map32 of 2^32-1 entries as a frame', hex('df ffffffff'), refused),
    one('array32 of 2^31 elements as a frame', hex('dd 80000000'), refused),
    one('str32 of 4 GiB as the argument', echoOf(hex('db ffffffff')), refused),
    one('bin32 of 4 GiB as the argument', echoOf(hex('c6 ffffffff')), refused),
    one('array32 of 4 billion as the argument', echoOf(hex('dd ffffffff')), refused),
    one('map32 of 4 billion as the argument', echoOf(hex('df ffffffff')), refused),
    one('str32 of 4 GiB as the method name', rawRequest(mp(1), hex('db ffffffff'), hex('90')), refused),
    one('str32 of 4 GiB as a map key', echoOf(cat(mapHeader(1), hex('db ffffffff'))), refused),
    one('str32 of 4 GiB deep inside', echoOf(cat(nestedArrays(20, hex('db ffffffff')))), refused),
    one('str32 one byte over the frame limit', echoOf(cat(strHeader(MAX - 20, 32))), refused),
    one('params array32 of 4 billion', rawRequest(mp(1), mp('harden.echo'), hex('dd ffffffff')), refused),
    one('hello map32 of 4 billion entries', cat(hex('92 03'), hex('df ffffffff')), refused),
  ],
};

const hugeNumbers: BadInputKind = {
  kind: 'uint64 and 2^53 values',
  cases: [
    one('msgid uint64 2^64-1', rawRequest(uint64(U64_MAX), mp('harden.add'), cat([0x91], mp({ a: 1, b: 2 }))), dropped()),
    one('msgid uint64 2^53', rawRequest(uint64(2n ** 53n), mp('harden.add'), cat([0x91], mp({ a: 1, b: 2 }))), dropped()),
    one('msgid uint64 2^32', rawRequest(uint64(2n ** 32n), mp('harden.add'), cat([0x91], mp({ a: 1, b: 2 }))), dropped()),
    one('msgid int64 -1', rawRequest(int64(-1n), mp('harden.add'), cat([0x91], mp({ a: 1, b: 2 }))), dropped()),
    one('msgid float 1.5', rawRequest(hex('cb 3ff8000000000000'), mp('harden.add'), cat([0x91], mp({ a: 1, b: 2 }))), dropped()),
    one('msgid NaN', rawRequest(hex('cb 7ff8000000000000'), mp('harden.add'), cat([0x91], mp({ a: 1, b: 2 }))), dropped()),
    one('add a = uint64 2^64-1', add(1, uint64(U64_MAX)), answers(error(1, 'INVALID_INPUT'))),
    one('add a = int64 -2^63', add(1, int64(-(2n ** 63n))), answers(error(1, 'INVALID_INPUT'))),
    one('add a = uint64 2^53', add(1, uint64(2n ** 53n), mp(0)), answers(ok(1, 2 ** 53))),
    one('add a = float +Infinity', add(1, hex('cb 7ff0000000000000')), answers(error(1, 'INVALID_INPUT'))),
    one(
      'count to = uint64 2^64-1',
      streamOpen(1, 'harden.count', rawMap([[mp('to'), uint64(U64_MAX)]])),
      answers({ stream: 1, error: ['INVALID_INPUT'] }),
    ),
    one(
      'count to = 2^53',
      streamOpen(1, 'harden.count', rawMap([[mp('to'), uint64(2n ** 53n)]])),
      answers({ stream: 1, error: ['INVALID_INPUT'] }),
    ),
    one(
      'stream credit uint64 2^64-1 on open',
      rawStreamOpen(mp(1), mp('harden.count'), cat([0x91], mp({ to: 2 })), uint64(U64_MAX)),
      dropped(),
    ),
    one('stream credit 2^32 on open', rawStreamOpen(mp(1), mp('harden.count'), cat([0x91], mp({ to: 2 })), uint64(2n ** 32n)), dropped()),
    one('credit message of 2^64-1', cat(hex('93 08 01'), uint64(U64_MAX)), dropped()),
    // Credit adds up without bound; the stream must still end after `to` items.
    one('credit message of 2^32-1 twice', streamOpen(1, 'harden.count', mp({ to: 3 }), 1), answers({ stream: 1, items: [0, 1, 2] }), {
      units: [streamOpen(1, 'harden.count', mp({ to: 3 }), 1), mp([8, 1, 0xffffffff]), mp([8, 1, 0xffffffff])],
    }),
    one('cancel of id 2^64-1', cat(hex('92 04'), uint64(U64_MAX)), dropped()),
    one('hello with procwire 2^64-1', cat(hex('92 03 81'), mp('procwire'), uint64(U64_MAX)), dropped()),
    one('hello with procwire 2^53', cat(hex('92 03 81'), mp('procwire'), uint64(2n ** 53n)), answers({ hello: true })),
  ],
};

const oversized: BadInputKind = {
  kind: 'oversized frames',
  cases: [
    one('a frame one byte over maxFrameBytes', echoOfSize(MAX + 1), refused),
    one('a frame of exactly maxFrameBytes', echoOfSize(MAX), answers(check(1, binOfLength(MAX - ECHO_OVERHEAD)))),
    one('a method name of 4 MiB', rawRequest(mp(1), cat(strHeader(MAX, 32), Buffer.alloc(MAX, 0x61)), hex('90')), refused),
    one(
      'two 3 MiB frames back to back',
      echoOfSize(3 * 1024 * 1024, 1),
      answers(check(1, binOfLength(3 * 1024 * 1024 - ECHO_OVERHEAD)), check(2, binOfLength(3 * 1024 * 1024 - ECHO_OVERHEAD))),
      {
        units: [echoOfSize(3 * 1024 * 1024, 1), echoOfSize(3 * 1024 * 1024, 2)],
      },
    ),
  ],
};

const bigEcho = echoOf(cat(binHeader(200_000, 32), Buffer.alloc(200_000, 1)));
const truncated: BadInputKind = {
  kind: 'truncated frames',
  cases: [
    one('a request cut in half', add(1, mp(1)).subarray(0, 10), incomplete),
    one('a hello without its last byte', HELLO.subarray(0, HELLO.length - 1), incomplete),
    one('a stream open cut after its method', streamOpen(1, 'harden.count', mp({ to: 3 })).subarray(0, 15), incomplete),
    one('a str32 header cut in the middle', echoOf(hex('db 00 00')), incomplete),
    one('a 200 KB frame cut in half', bigEcho.subarray(0, 100_000), incomplete),
    one('a 1 MiB frame without its last byte', echoOfSize(1024 * 1024).subarray(0, 1024 * 1024 - 1), incomplete),
    one('a whole request, then half of the next', add(1, mp(1)), incomplete, { units: [add(1, mp(1)), add(2, mp(1)).subarray(0, 12)] }),
  ],
};

const conversation = (): { units: Bytes[]; answers: Answer[] } => ({
  units: [
    HELLO,
    add(1, mp(40)),
    streamOpen(2, 'harden.count', mp({ to: 3 })),
    echoOf(mp({ text: 'héllo wörld ✓', list: [1, -2, 3.5, null, true], nested: { deep: [[['x']]] } }), 3),
    mp([4, 99]),
    request(4, 'harden.keys', mp({ b: 1, a: 2 })),
  ],
  answers: [
    { hello: true },
    ok(1, 42),
    { stream: 2, items: [0, 1, 2] },
    ok(3, { text: 'héllo wörld ✓', list: [1, -2, 3.5, null, true], nested: { deep: [[['x']]] } }),
    ok(4, ['b', 'a']),
  ],
});
const splitWrites: BadInputKind = {
  kind: 'split writes (1-byte)',
  cases: [
    {
      name: 'a hello, calls and a stream, one byte per write',
      units: conversation().units,
      writes: 'bytewise',
      expect: answers(...conversation().answers),
    },
    {
      name: 'a 4 KiB echo, one byte per write',
      units: [echoOf(cat(binHeader(4096), Buffer.alloc(4096, 3)))],
      writes: 'bytewise',
      expect: answers(check(1, binOfLength(4096))),
    },
    // mq: has no byte stream to split; the link itself cuts this frame into 25 messages.
    one('a 200 KB frame in pieces', bigEcho, answers(check(1, binOfLength(200_000)))),
  ],
};

const THOUSAND = Array.from({ length: 1000 }, (_, i) => i + 1);
const coalesced: BadInputKind = {
  kind: 'coalesced writes (1,000 frames)',
  cases: [
    {
      name: '1,000 requests in one write',
      units: THOUSAND.map((id) => add(id, mp(id))),
      writes: 'together',
      expect: answers(...THOUSAND.map((id) => ok(id, id + 2))),
    },
    {
      name: '1,000 mixed requests after a hello in one write',
      hello: true,
      units: THOUSAND.map((id) =>
        id % 4 === 0
          ? add(id, mp(id))
          : id % 4 === 1
            ? request(id, 'harden.nope', mp(null))
            : id % 4 === 2
              ? add(id, mp('x'))
              : echoOf(mp([id]), id),
      ),
      writes: 'together',
      expect: answers(
        ...THOUSAND.map((id) =>
          id % 4 === 0
            ? ok(id, id + 2)
            : id % 4 === 1
              ? error(id, 'METHOD_NOT_FOUND')
              : id % 4 === 2
                ? error(id, 'INVALID_INPUT')
                : ok(id, [id]),
        ),
      ),
    },
    {
      name: '1,000 streams opened in one write',
      units: THOUSAND.map((id) => streamOpen(id, 'harden.count', mp({ to: 1 }))),
      writes: 'together',
      expect: answers(...THOUSAND.map((id) => ({ stream: id, items: [0] }))),
    },
  ],
};

const nils = (count: number) => Buffer.alloc(count, 0xc0);
const lengthBombs: BadInputKind = {
  kind: 'length bombs (max-count headers)',
  cases: [
    one('array16 of 65,535 with nothing after', hex('dc ffff'), incomplete),
    one('str16 of 65,535 with nothing after', echoOf(hex('da ffff')), incomplete),
    one('bin16 of 65,535 with nothing after', echoOf(hex('c5 ffff')), incomplete),
    one('map16 of 65,535 entries (131,070 elements)', hex('de ffff'), refused),
    one(`array32 of ${DEFAULT_MAX_ELEMENTS + 1} elements`, cat(arrayHeader(DEFAULT_MAX_ELEMENTS + 1, 32)), refused),
    one(`array32 of ${DEFAULT_MAX_ELEMENTS} elements, none sent`, cat(arrayHeader(DEFAULT_MAX_ELEMENTS, 32)), incomplete),
    one(
      `a real argument of ${DEFAULT_MAX_ELEMENTS} elements`,
      echoOf(cat(arrayHeader(DEFAULT_MAX_ELEMENTS, 32), nils(DEFAULT_MAX_ELEMENTS))),
      refused,
    ),
    one(
      'a real map of 50,000 entries',
      echoOf(cat(mapHeader(50_000, 32), ...Array.from({ length: 50_000 }, (_, i) => cat(mp(`k${i}`), mp(i))))),
      refused,
    ),
    one(
      'a real argument of 99,990 elements',
      echoOf(cat(arrayHeader(99_990, 32), nils(99_990))),
      answers(check(1, (r) => (Array.isArray(r) && r.length === 99_990 ? undefined : 'not 99,990 nils back'))),
    ),
    one('a frame of 100,000 nils (not a message)', cat(arrayHeader(DEFAULT_MAX_ELEMENTS, 32), nils(DEFAULT_MAX_ELEMENTS)), dropped()),
    one(
      'params of 65,535 nils',
      rawRequest(mp(1), mp('harden.echo'), cat(arrayHeader(65_535, 16), nils(65_535))),
      answers(error(1, 'INVALID_INPUT')),
    ),
    one(
      'elements count per frame, not per connection',
      echoOf(cat(arrayHeader(60_000, 32), nils(60_000))),
      answers(
        check(1, (r) => ((r as unknown[]).length === 60_000 ? undefined : 'wrong')),
        check(2, (r) => ((r as unknown[]).length === 60_000 ? undefined : 'wrong')),
      ),
      {
        units: [echoOf(cat(arrayHeader(60_000, 32), nils(60_000)), 1), echoOf(cat(arrayHeader(60_000, 32), nils(60_000)), 2)],
      },
    ),
    one(
      'a method name of 3 MiB',
      rawRequest(mp(1), cat(strHeader(3 * 1024 * 1024, 32), Buffer.alloc(3 * 1024 * 1024, 0x62)), hex('90')),
      answers(error(1, 'METHOD_NOT_FOUND', 'FRAME_TOO_LARGE')),
    ),
    one(
      'a method name just under the frame limit',
      rawRequest(mp(1), cat(strHeader(MAX - 20, 32), Buffer.alloc(MAX - 20, 0x63)), hex('90')),
      answers(error(1, 'METHOD_NOT_FOUND', 'FRAME_TOO_LARGE')),
    ),
  ],
};

/** Echo of arrays nested so that the whole message is `total` deep (the message array is depth 1, params 2). */
const echoAtDepth = (total: number, id = 1) => echoOf(nestedArrays(total - 2, mp(7)), id);
const deepNesting: BadInputKind = {
  kind: 'deep nesting (64 to 200,000)',
  cases: [
    one(
      `nesting of exactly ${DEFAULT_MAX_DEPTH}`,
      echoAtDepth(DEFAULT_MAX_DEPTH),
      answers(check(1, (r) => (depthOf(r) === DEFAULT_MAX_DEPTH - 2 ? undefined : `depth ${depthOf(r)} back`))),
    ),
    one(`nesting of ${DEFAULT_MAX_DEPTH + 1}`, echoAtDepth(DEFAULT_MAX_DEPTH + 1), refused),
    ...[100, 1000, 10_000, 200_000].map((depth) => one(`nesting of ${depth}`, echoAtDepth(depth), refused)),
    one('200,000 nested arrays as a frame', nestedArrays(200_000), refused),
    one(`maps nested ${DEFAULT_MAX_DEPTH + 1} deep`, echoOf(nestedMaps(DEFAULT_MAX_DEPTH - 1)), refused),
    one('maps nested 200,000 deep', echoOf(nestedMaps(200_000)), refused),
    one(
      `maps and arrays nested ${DEFAULT_MAX_DEPTH + 1} deep`,
      echoOf(Buffer.concat(Array.from({ length: DEFAULT_MAX_DEPTH - 1 }, (_, i) => (i % 2 ? hex('91') : hex('81 a1 6b'))).concat(mp(1)))),
      refused,
    ),
    // An empty array or map opens a level like a full one.
    one(`an empty array at depth ${DEFAULT_MAX_DEPTH + 1}`, echoOf(nestedArrays(DEFAULT_MAX_DEPTH - 2, hex('90'))), refused),
    one(`an empty map at depth ${DEFAULT_MAX_DEPTH + 1}`, echoOf(nestedArrays(DEFAULT_MAX_DEPTH - 2, hex('80'))), refused),
    one(
      `an empty array at depth ${DEFAULT_MAX_DEPTH}`,
      echoOf(nestedArrays(DEFAULT_MAX_DEPTH - 3, hex('90'))),
      answers(check(1, () => undefined)),
    ),
    one(
      `the limit of ${DEFAULT_MAX_DEPTH} twice in a row`,
      echoAtDepth(DEFAULT_MAX_DEPTH),
      answers(
        check(1, () => undefined),
        check(2, () => undefined),
      ),
      {
        units: [echoAtDepth(DEFAULT_MAX_DEPTH, 1), echoAtDepth(DEFAULT_MAX_DEPTH, 2)],
      },
    ),
    // 64 open arrays, then a deeper one sent a byte at a time: the limit holds across writes.
    {
      name: `nesting of ${DEFAULT_MAX_DEPTH + 1}, one byte per write`,
      units: [echoAtDepth(DEFAULT_MAX_DEPTH + 1)],
      writes: 'bytewise',
      expect: refused,
    },
  ],
};

const isDate = (r: unknown) => (r instanceof Date ? undefined : `not a Date: ${String(r)}`);
const extensions: BadInputKind = {
  kind: '0xC1 and extension types',
  cases: [
    one('0xC1 as a frame', hex('c1'), refused),
    one('0xC1 as the argument', echoOf(hex('c1')), refused),
    one('0xC1 as a map key', echoOf(hex('81 c1 01')), refused),
    one('0xC1 as the method', rawRequest(mp(1), hex('c1'), hex('90')), refused),
    one('0xC1 as the message type', hex('94 c1 01 a0 90'), refused),
    one('ext type 1 (fixext1)', echoOf(hex('d4 01 00')), refused),
    one('ext type 0 (a Neovim Buffer)', echoOf(hex('d4 00 01')), refused),
    one('msgpackr record ext 0x72', echoOf(hex('d4 72 40')), refused),
    one('ext type -2 (fixext4)', echoOf(hex('d6 fe 00000000')), refused),
    one('ext type 127 (ext8)', echoOf(hex('c7 03 7f 010203')), refused),
    one('ext type -128 (ext16)', echoOf(hex('c8 0003 80 010203')), refused),
    one('ext type 5 (ext32)', echoOf(hex('c9 00000003 05 010203')), refused),
    one('ext type 1 as a whole frame', hex('d4 01 00'), refused),
    one('timestamp 32', echoOf(hex('d6 ff 00000001')), answers(check(1, isDate))),
    one('timestamp 64', echoOf(hex('d7 ff 00000000 00000001')), answers(check(1, isDate))),
    one('timestamp 96', echoOf(hex('c7 0c ff 00000000 0000000000000001')), answers(check(1, isDate))),
    // Lengths no timestamp has: msgpackr makes an Invalid Date of them; whatever comes back must be well-formed.
    one('timestamp of 1 byte', echoOf(hex('d4 ff 00')), answers(check(1, () => undefined))),
    one('timestamp of 16 bytes', echoOf(cat(hex('d8 ff'), Buffer.alloc(16))), answers(check(1, () => undefined))),
    one('timestamp of 0 bytes (ext8)', echoOf(hex('c7 00 ff')), answers(check(1, () => undefined))),
    one('timestamp as the message id', rawRequest(hex('d6 ff 00000001'), mp('harden.add'), cat([0x91], mp({ a: 1, b: 2 }))), dropped()),
    one('timestamp as the method', rawRequest(mp(1), hex('d6 ff 00000001'), hex('90')), answers(error(1, 'METHOD_NOT_FOUND'))),
    one('timestamp as a map key', echoOf(hex('81 d6 ff 00000001 01')), undecodableRequest),
  ],
};

const method = (bytes: Bytes, id = 1) => rawRequest(mp(id), bytes, cat([0x91], mp({ a: 1, b: 2 })));
const notFound = answers(error(1, 'METHOD_NOT_FOUND'));
const notFoundCase = (name: string, bytes: Bytes) => one(name, bytes, notFound);
const badUtf8: BadInputKind = {
  kind: 'non-UTF-8 method names',
  cases: [
    notFoundCase('harden.add followed by 0xFF', method(rawStr(cat(Buffer.from('harden.add'), [0xff])))),
    notFoundCase('0xFF 0xFE', method(rawStr(hex('ff fe')))),
    notFoundCase('an overlong "/" (C0 AF)', method(rawStr(cat(Buffer.from('harden'), hex('c0 af'), Buffer.from('add'))))),
    notFoundCase('a lone surrogate (ED A0 80)', method(rawStr(cat(Buffer.from('harden.'), hex('ed a0 80'))))),
    notFoundCase('a cut 3-byte sequence', method(rawStr(cat(Buffer.from('harden.add'), hex('e2 82'))))),
    notFoundCase('"harden.ad" + a lone lead byte', method(rawStr(cat(Buffer.from('harden.ad'), hex('c3'))))),
    notFoundCase('a NUL inside', method(rawStr(Buffer.from('harden.add\0')))),
    notFoundCase('bin "harden.add" (what pynvim sends)', method(cat(binHeader(10), Buffer.from('harden.add')))),
    notFoundCase('nil', method(mp(null))),
    notFoundCase('an integer', method(mp(7))),
    notFoundCase('an array', method(mp(['harden.add']))),
    notFoundCase('a map', method(mp({ name: 'harden.add' }))),
    notFoundCase('a boolean', method(mp(true))),
    one(
      'a stream open named with 0xFF',
      rawStreamOpen(mp(1), rawStr(hex('ff')), cat([0x91], mp({ to: 1 })), mp(4)),
      answers({ stream: 1, error: ['METHOD_NOT_FOUND'] }),
    ),
    one('invalid UTF-8 in an input key', add(1, mp(1)), answers(error(1, 'INVALID_INPUT')), {
      units: [
        request(
          1,
          'harden.add',
          rawMap([
            [rawStr(hex('61 ff')), mp(1)],
            [mp('b'), mp(2)],
          ]),
        ),
      ],
    }),
    one(
      'invalid UTF-8 as a value',
      echoOf(rawStr(hex('ff fe 41'))),
      answers(check(1, (r) => (typeof r === 'string' ? undefined : 'not a string'))),
    ),
    one(
      'invalid UTF-8 in the hello',
      cat(
        hex('92 03'),
        rawMap([
          [mp('procwire'), mp(1)],
          [mp('channel'), rawStr(hex('ff ff'))],
        ]),
      ),
      answers({ hello: true }),
    ),
  ],
};

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
const polluting = (key: string) => rawMap([[mp(key), mp({ polluted: true, a: 100, toString: 1 })]]);
const prototypeKeys: BadInputKind = {
  kind: 'prototype keys',
  cases: [
    ...[
      ...PROTO_KEYS,
      'harden.__proto__',
      'harden.constructor',
      'harden.prototype',
      'harden.toString',
      'harden.hasOwnProperty',
      'harden.valueOf',
      'toString',
      'hasOwnProperty',
      '__defineGetter__',
      'harden.__lookupGetter__',
    ].map((name) => one(`method ${name}`, request(1, name, mp({ a: 1, b: 2 })), notFound)),
    one('stream harden.__proto__', streamOpen(1, 'harden.__proto__', mp({ to: 1 })), answers({ stream: 1, error: ['METHOD_NOT_FOUND'] })),
    one(
      'stream harden.constructor',
      streamOpen(1, 'harden.constructor', mp({ to: 1 })),
      answers({ stream: 1, error: ['METHOD_NOT_FOUND'] }),
    ),
    ...PROTO_KEYS.flatMap((key) => [
      one(
        `add with an extra ${key} key`,
        request(
          1,
          'harden.add',
          rawMap([
            [mp('a'), mp(1)],
            [mp('b'), mp(2)],
            [mp(key), mp({ a: 100, b: 100, polluted: true })],
          ]),
        ),
        answers(ok(1, 3)),
      ),
      one(
        `add with a and b only under ${key}`,
        request(1, 'harden.add', rawMap([[mp(key), mp({ a: 1, b: 2 })]])),
        answers(error(1, 'INVALID_INPUT')),
      ),
      one(`echo of {${key}: ...}`, echoOf(polluting(key)), answers(check(1, () => undefined))),
      one(
        `keys of {${key}: ...}`,
        request(1, 'harden.keys', polluting(key)),
        answers(check(1, (r) => (Array.isArray(r) && r.length === 1 ? undefined : `keys ${String(r)}`))),
      ),
      one(
        `loose object with ${key}`,
        request(
          1,
          'harden.loose',
          rawMap([
            [mp('tag'), mp('t')],
            [mp(key), mp({ polluted: true })],
          ]),
        ),
        answers(check(1, () => undefined)),
      ),
      one(
        `count with ${key}.to = ${MAX_COUNT}`,
        streamOpen(
          1,
          'harden.count',
          rawMap([
            [mp('to'), mp(1)],
            [mp(key), mp({ to: MAX_COUNT })],
          ]),
        ),
        answers({ stream: 1, items: [0] }),
      ),
      one(`${key} nested in arrays`, echoOf(nestedArrays(10, polluting(key))), answers(check(1, () => undefined))),
    ]),
    one(
      'constructor.prototype.polluted',
      echoOf(mp({ constructor: { prototype: { polluted: true } } })),
      answers(check(1, () => undefined)),
    ),
    one(
      'hello with __proto__ beside procwire',
      cat(
        hex('92 03'),
        rawMap([
          [mp('procwire'), mp(1)],
          [mp('__proto__'), mp({ polluted: true })],
        ]),
      ),
      answers({ hello: true }),
    ),
    one('hello with procwire only under __proto__', cat(hex('92 03'), rawMap([[mp('__proto__'), mp({ procwire: 1 })]])), dropped()),
  ],
};

const addWith = (argument: unknown, id = 1) => request(id, 'harden.add', mp(argument));
const invalid = (id = 1) => answers(error(id, 'INVALID_INPUT'));
const schemaCases: Array<[string, Bytes, Expect]> = [
  ['a as a string', addWith({ a: '1', b: 2 }), invalid()],
  ['b missing', addWith({ a: 1 }), invalid()],
  ['an empty object', addWith({}), invalid()],
  ['an array instead of an object', addWith([1, 2]), invalid()],
  ['a string instead of an object', addWith('1+2'), invalid()],
  ['nil instead of an object', addWith(null), invalid()],
  ['a = true', addWith({ a: true, b: 2 }), invalid()],
  ['a = NaN', add(1, hex('cb 7ff8000000000000')), invalid()],
  ['a = a nested object', addWith({ a: { a: 1 }, b: 2 }), invalid()],
  ['a = bin', add(1, cat(binHeader(1), [1])), invalid()],
  ['a = a timestamp', add(1, hex('d6 ff 00000001')), invalid()],
  ['no params ([])', rawRequest(mp(1), mp('harden.add'), hex('90')), invalid()],
  [
    'two params',
    rawRequest(
      mp(1),
      mp('harden.add'),
      mp([
        { a: 1, b: 2 },
        { a: 1, b: 2 },
      ]),
    ),
    invalid(),
  ],
  ['params as a map', rawRequest(mp(1), mp('harden.add'), mp({ a: 1, b: 2 })), invalid()],
  ['params nil', rawRequest(mp(1), mp('harden.add'), mp(null)), invalid()],
  ['params a number', rawRequest(mp(1), mp('harden.add'), mp(3)), invalid()],
  ['count to = -1', streamOpen(1, 'harden.count', mp({ to: -1 })), answers({ stream: 1, error: ['INVALID_INPUT'] })],
  ['count to = 1.5', streamOpen(1, 'harden.count', mp({ to: 1.5 })), answers({ stream: 1, error: ['INVALID_INPUT'] })],
  [
    `count to = ${MAX_COUNT + 1}`,
    streamOpen(1, 'harden.count', mp({ to: MAX_COUNT + 1 })),
    answers({ stream: 1, error: ['INVALID_INPUT'] }),
  ],
  [
    'count with params a map',
    rawStreamOpen(mp(1), mp('harden.count'), mp({ to: 1 }), mp(8)),
    answers({ stream: 1, error: ['INVALID_INPUT'] }),
  ],
  ['keys of an array', request(1, 'harden.keys', mp([1, 2])), invalid()],
  ['keys of a string', request(1, 'harden.keys', mp('abc')), invalid()],
  ['admin with junk', request(1, 'harden.admin', mp({ collect: 'yes' })), invalid()],
  ['a stream called as a method', request(1, 'harden.count', mp({ to: 1 })), notFound],
  ['a method opened as a stream', streamOpen(1, 'harden.add', mp({ a: 1, b: 2 })), answers({ stream: 1, error: ['METHOD_NOT_FOUND'] })],
];
const wrongSchemas: BadInputKind = {
  kind: 'wrong schemas',
  // Both dialects: "CODE: message" strings to a plain peer, maps after a hello.
  cases: schemaCases.flatMap(([name, bytes, expect]) => [
    one(name, bytes, expect),
    one(`${name}, after a hello`, bytes, expect, { hello: true }),
  ]),
};

const malformed: BadInputKind = {
  kind: 'malformed messages',
  cases: [
    one('a number', mp(7), dropped()),
    one('a string', mp('harden.add'), dropped()),
    one('a map', mp({ type: 0 }), dropped()),
    one('nil', mp(null), dropped()),
    one('an empty array', mp([]), dropped()),
    one('type 9', mp([9, 1, 'harden.add', [{ a: 1, b: 2 }]]), dropped()),
    one('type -1', mp([-1, 1]), dropped()),
    one('type "0"', mp(['0', 1, 'harden.add', [{ a: 1, b: 2 }]]), dropped()),
    one('a response sent by the client', mp([1, 1, null, 3]), dropped()),
    one('a stream item sent by the client', mp([6, 1, 0]), dropped()),
    one('a request of 3 elements', mp([0, 1, 'harden.add']), dropped()),
    one('a request of 5 elements', mp([0, 1, 'harden.add', [{ a: 1, b: 2 }], 'extra']), dropped()),
    one('msgid -1', mp([0, -1, 'harden.add', [{ a: 1, b: 2 }]]), dropped()),
    one('msgid "1"', mp([0, '1', 'harden.add', [{ a: 1, b: 2 }]]), dropped()),
    one('msgid nil', mp([0, null, 'harden.add', [{ a: 1, b: 2 }]]), dropped()),
    one('a hello of 1 element', mp([3]), dropped()),
    one('a hello with a number', mp([3, 1]), dropped()),
    one('a hello with procwire "1"', mp([3, { procwire: '1' }]), dropped()),
    one('a hello with an array', mp([3, [1]]), dropped()),
    one('a cancel of 1 element', mp([4]), dropped()),
    one('a cancel of 3 elements', mp([4, 1, 2]), dropped()),
    one('a cancel of nothing running', mp([4, 77]), dropped(0)),
    one('a stream open of 4 elements', mp([5, 1, 'harden.count', [{ to: 1 }]]), dropped()),
    one('a stream open with credit -1', mp([5, 1, 'harden.count', [{ to: 1 }], -1]), dropped()),
    one('a credit of -5', mp([8, 1, -5]), dropped()),
    one('a credit for no stream', mp([8, 12, 5]), dropped(0)),
    // msgpack-rpc clients may notify; the server ignores it without counting.
    one('a notification', mp([2, 'harden.add', [{ a: 1, b: 2 }]]), dropped(0)),
    one('a map with an array key (undecodable)', hex('81 90 01'), dropped()),
    one('a request with a map key in params (undecodable)', echoOf(hex('81 80 01')), undecodableRequest),
    one('a bin map key (undecodable)', echoOf(hex('81 c4 01 61 01')), undecodableRequest),
    // A stream without credit stays open, so its id is in use.
    one('a request on the id of an open stream', add(5, mp(1)), answers(error(5, 'PROTOCOL')), {
      units: [streamOpen(5, 'harden.count', mp({ to: 3 }), 0), add(5, mp(1))],
    }),
    { name: '16,384 one-byte frames in one write', units: Array<Bytes>(16_384).fill(mp(7)), writes: 'together', expect: dropped(16_384) },
  ],
};

export const catalogue: readonly BadInputKind[] = [
  lengthClaims,
  hugeNumbers,
  oversized,
  truncated,
  splitWrites,
  coalesced,
  lengthBombs,
  deepNesting,
  extensions,
  badUtf8,
  prototypeKeys,
  wrongSchemas,
  malformed,
];
