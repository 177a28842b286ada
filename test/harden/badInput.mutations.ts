/**
 * The mutation sweep: valid frames (a hello, a request, a stream open, a
 * cancel), each changed in every way of three kinds: every byte set to a few
 * hostile values, every length field (array, map and str headers) set to 0,
 * one less, one more, the largest its form holds, and rewritten in the 16-
 * and 32-bit forms; and cut at every offset. What the server must make of a
 * mutant is worked out by procwire's own frame checks (badInput.framing.ts):
 * the expectation of every mutant is `survives`.
 */
import type { BadInputCase, BadInputKind } from './badInput.case.js';
import { arrayHeader, HELLO, mapHeader, mp, strHeader, type Width } from './badInput.bytes.js';

const TEMPLATES: ReadonlyArray<[string, Buffer]> = [
  ['hello', HELLO],
  ['request', mp([0, 1, 'harden.add', [{ a: 1, b: 2 }]])],
  ['stream open', mp([5, 2, 'harden.count', [{ to: 3 }], 64])],
  ['cancel', mp([4, 1])],
];

const hex2 = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/** Each byte xor 0xFF and xor 0x01, and set to 0x00, 0x7F, 0x80, 0xC1 and 0xFF. */
function byteFlips(name: string, frame: Buffer): BadInputCase[] {
  const cases: BadInputCase[] = [];
  for (let i = 0; i < frame.length; i++) {
    const b = frame[i]!;
    for (const value of new Set([b ^ 0xff, b ^ 0x01, 0x00, 0x7f, 0x80, 0xc1, 0xff])) {
      if (value === b) continue;
      const mutant = Buffer.from(frame);
      mutant[i] = value;
      cases.push({ name: `${name}: byte ${i} ${hex2(b)} -> ${hex2(value)}`, units: [mutant], expect: { survives: true } });
    }
  }
  return cases;
}

interface LengthField {
  readonly at: number;
  /** Header bytes (1 for the fix forms). */
  readonly size: number;
  readonly kind: 'array' | 'map' | 'str';
  readonly value: number;
}

/** The length fields of a frame made of fix-form containers and strings, ints, nil and booleans (what the templates hold). */
function lengthFields(frame: Buffer): LengthField[] {
  const fields: LengthField[] = [];
  for (let at = 0; at < frame.length;) {
    const b = frame[at]!;
    if (b >= 0x90 && b <= 0x9f) fields.push({ at, size: 1, kind: 'array', value: b & 0x0f });
    else if (b >= 0x80 && b <= 0x8f) fields.push({ at, size: 1, kind: 'map', value: b & 0x0f });
    else if (b >= 0xa0 && b <= 0xbf) {
      fields.push({ at, size: 1, kind: 'str', value: b & 0x1f });
      at += 1 + (b & 0x1f);
      continue;
    } else if (!(b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3)) {
      throw new Error(`template byte ${hex2(b)} at ${at} is not one the sweep knows`);
    }
    at += 1;
  }
  return fields;
}

function header(kind: LengthField['kind'], value: number, width: Width): Buffer {
  if (kind === 'array') return arrayHeader(value, width);
  if (kind === 'map') return mapHeader(value, width);
  return strHeader(value, width);
}

/** Each length field set to 0, n-1, n+1 and its form's largest, and rewritten as 16 and 32 bits (n, n+1 and the largest). */
function lengthMutants(name: string, frame: Buffer): BadInputCase[] {
  const cases: BadInputCase[] = [];
  for (const field of lengthFields(frame)) {
    const fixMax = field.kind === 'str' ? 31 : 15;
    const variants: Array<[number, Width]> = [
      [0, 'fix'],
      [field.value - 1, 'fix'],
      [field.value + 1, 'fix'],
      [fixMax, 'fix'],
      [field.value, 16],
      [field.value + 1, 16],
      [0xffff, 16],
      [field.value, 32],
      [0xffffffff, 32],
    ];
    const seen = new Set<string>();
    for (const [value, width] of variants) {
      if (value < 0 || (width === 'fix' && (value === field.value || value > fixMax))) continue;
      const mutant = Buffer.concat([frame.subarray(0, field.at), header(field.kind, value, width), frame.subarray(field.at + field.size)]);
      const key = mutant.toString('hex');
      if (seen.has(key)) continue;
      seen.add(key);
      cases.push({
        name: `${name}: ${field.kind} length at ${field.at} (${field.value}) -> ${value} as ${width}`,
        units: [mutant],
        expect: { survives: true },
      });
    }
  }
  return cases;
}

function truncations(name: string, frame: Buffer): BadInputCase[] {
  return Array.from({ length: frame.length - 1 }, (_, i) => ({
    name: `${name}: cut after ${i + 1} of ${frame.length} bytes`,
    units: [frame.subarray(0, i + 1)],
    expect: { survives: true } as const,
  }));
}

export const mutationKinds: readonly BadInputKind[] = [
  { kind: 'mutation sweep: byte flips', cases: TEMPLATES.flatMap(([name, frame]) => byteFlips(name, frame)) },
  { kind: 'mutation sweep: length fields', cases: TEMPLATES.flatMap(([name, frame]) => lengthMutants(name, frame)) },
  { kind: 'mutation sweep: truncation', cases: TEMPLATES.flatMap(([name, frame]) => truncations(name, frame)) },
];
