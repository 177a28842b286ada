// The part of vitest's API the conformance suite uses (test/conformance/
// suite.ts, endpoints.ts and what they import), on node:test and
// node:assert, for node.exe under Wine where vitest cannot run. hooks.mjs
// resolves `import ... from 'vitest'` here.
//
// Only what the suite calls exists. Anything else (another matcher, `.not`,
// `it.only`, `describe.each`...) throws when it is reached, so a test can never
// pass because the shim skipped its check. Tests and hooks get vitest.config.ts's
// 30 s timeouts, and run one after another in declaration order, as in vitest.
import assert from 'node:assert/strict';
import { after, before, describe as nodeDescribe, it as nodeIt } from 'node:test';
import { inspect } from 'node:util';
import { wineSkipReason } from './wine.mjs';

/** vitest.config.ts: testTimeout and hookTimeout. */
const TIMEOUT_MS = 30_000;

/** The describe blocks being collected, outermost first: their names and skip reasons. */
const suitePath = [];

/** Callers of an API the shim lacks get an error naming it, never a silent pass. */
function strict(object, what) {
  return new Proxy(object, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target) return Reflect.get(target, key, receiver);
      throw new Error(`the vitest shim (test/windows/conformance/vitest.mjs) has no ${what}.${key}; implement it there`);
    },
  });
}

function run(fn) {
  // node:test treats a function with parameters as callback style: never pass ours any.
  return () => fn();
}

/** Why the suite being collected is skipped (its own or an enclosing reason), or false. */
function suiteSkipped() {
  return suitePath.findLast((suite) => suite.skip)?.skip ?? false;
}

/** vitest's other forms (options, a timeout argument) are not implemented: refuse them. */
function checkArguments(what, args) {
  if (args.length !== 2 || typeof args[0] !== 'string' || typeof args[1] !== 'function') {
    throw new Error(`the vitest shim takes ${what}(name, fn) only, got ${args.length} arguments`);
  }
}

function defineSuite(name, fn, skip) {
  // A skipped suite is still collected, as vitest does, so each of its tests
  // is reported as skipped (node:test would report one skipped suite and no tests).
  nodeDescribe(name, () => {
    suitePath.push({ name, skip });
    try {
      const result = fn();
      if (result && typeof result.then === 'function')
        throw new Error(`describe("${name}") got an async function; vitest collects tests synchronously`);
    } finally {
      suitePath.pop();
    }
  });
}

function defineTest(name, fn, skip) {
  const reason = suiteSkipped() || skip || wineSkipReason([...suitePath.map((suite) => suite.name), name]);
  nodeIt(name, { skip: reason || false, timeout: TIMEOUT_MS }, run(fn));
}

export const describe = strict(
  Object.assign((...args) => (checkArguments('describe', args), defineSuite(...args, false)), {
    skipIf:
      (condition) =>
      (...args) => (checkArguments('describe.skipIf()', args), defineSuite(...args, condition ? 'describe.skipIf: condition true' : false)),
  }),
  'describe',
);

export const it = strict(
  Object.assign((...args) => (checkArguments('it', args), defineTest(...args, false)), {
    skipIf:
      (condition) =>
      (...args) => (checkArguments('it.skipIf()', args), defineTest(...args, condition ? 'it.skipIf: condition true' : false)),
  }),
  'it',
);

export function beforeAll(fn, ...rest) {
  if (rest.length > 0) throw new Error('the vitest shim takes beforeAll(fn) only');
  // The hooks of a skipped suite never run, as in vitest.
  if (suiteSkipped()) return;
  before(
    async () => {
      const result = await fn();
      // vitest runs a function returned by beforeAll as a teardown; the shim does not.
      if (typeof result === 'function') throw new Error('the vitest shim has no teardown functions returned by beforeAll; use afterAll');
    },
    { timeout: TIMEOUT_MS },
  );
}

export function afterAll(fn, ...rest) {
  if (rest.length > 0) throw new Error('the vitest shim takes afterAll(fn) only');
  if (suiteSkipped()) return;
  after(run(fn), { timeout: TIMEOUT_MS });
}

function show(value) {
  return inspect(value, { depth: 4, maxArrayLength: 10, maxStringLength: 200, breakLength: Infinity });
}

function ensureNumber(value, matcher) {
  if (typeof value !== 'number' && typeof value !== 'bigint') throw new TypeError(`${matcher}: ${show(value)} is not a number or bigint`);
}

/**
 * toEqual is implemented for data only (primitives, arrays, plain objects),
 * where vitest's recursive equality and assert.deepStrictEqual agree; anything
 * else would need vitest's own rules, so it throws instead of guessing.
 */
function ensurePlainData(value, matcher) {
  if (value === null || typeof value !== 'object') return;
  const prototype = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    throw new Error(`${matcher}: the vitest shim compares only primitives, arrays and plain objects, not ${show(value)}`);
  }
  for (const item of Object.values(value)) ensurePlainData(item, matcher);
}

const matchers = {
  toBe(actual, expected) {
    if (!Object.is(actual, expected)) assert.fail(`expected ${show(actual)} to be ${show(expected)} (Object.is)`);
  },
  toEqual(actual, expected) {
    ensurePlainData(actual, 'toEqual');
    ensurePlainData(expected, 'toEqual');
    assert.deepStrictEqual(actual, expected);
  },
  toBeInstanceOf(actual, constructor) {
    if (typeof constructor !== 'function') throw new TypeError(`toBeInstanceOf: ${show(constructor)} is not a constructor`);
    if (!(actual instanceof constructor)) assert.fail(`expected ${show(actual)} to be an instance of ${constructor.name}`);
  },
  toBeLessThan(actual, bound) {
    ensureNumber(actual, 'toBeLessThan');
    if (!(actual < bound)) assert.fail(`expected ${show(actual)} to be less than ${show(bound)}`);
  },
  toBeLessThanOrEqual(actual, bound) {
    ensureNumber(actual, 'toBeLessThanOrEqual');
    if (!(actual <= bound)) assert.fail(`expected ${show(actual)} to be less than or equal to ${show(bound)}`);
  },
  toBeGreaterThan(actual, bound) {
    ensureNumber(actual, 'toBeGreaterThan');
    if (!(actual > bound)) assert.fail(`expected ${show(actual)} to be greater than ${show(bound)}`);
  },
  toMatch(actual, pattern) {
    if (typeof actual !== 'string') throw new TypeError(`toMatch: ${show(actual)} is not a string`);
    if (typeof pattern !== 'string' && !(pattern instanceof RegExp))
      throw new TypeError(`toMatch: ${show(pattern)} is not a string or RegExp`);
    const matched = typeof pattern === 'string' ? actual.includes(pattern) : actual.match(pattern) !== null;
    if (!matched) assert.fail(`expected ${show(actual)} to match ${show(pattern)}`);
  },
};

export function expect(actual) {
  const bound = {};
  for (const [name, matcher] of Object.entries(matchers)) bound[name] = (expected) => matcher(actual, expected);
  return strict(bound, 'expect(...)');
}
