// Shared by the tests in test/windows/native/, which .ci/wine/run-node.sh
// runs in the official node.exe under Wine (and which run as they are on
// Windows). Each test prints one line per check, so a CI log says what was
// verified where.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '@procwire/native';

assert.equal(process.platform, 'win32', 'these tests run in a Windows node.exe');

export const native = loadNative();
export const info = native.platformInfo();
/** Wine's version, or null on Windows: the tests branch on it only for Wine's documented differences. */
export const wine = info.wineVersion;

/** A name no other run or test uses (tests never share an OS name). */
export function uniqueName(what) {
  return `procwire-test-${what}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `predicate()` holds, polling every 5 ms; rejects after `ms`. */
export async function until(predicate, ms, what) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Lets the event loop run (callbacks of the addon's threads are delivered). */
export const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs the checks in order, printing `<file>: ok <title>` or
 * `<file>: SKIP <title> (<reason>)`; the first failure ends the process with
 * code 1 after printing it (the deadline only catches a hang: Wine on a busy
 * machine is slow). A check is an async function that may return
 * `{ skip: reason }` or a string of details to print after its title.
 */
export async function run(moduleUrl, checks, timeoutMs = 300_000) {
  const file = basename(fileURLToPath(moduleUrl), '.mjs');
  const deadline = setTimeout(() => {
    console.error(`${file}: did not finish within ${timeoutMs} ms`);
    process.exit(1);
  }, timeoutMs);
  console.log(`${file}: Node ${process.version}, Windows ${info.windowsVersion}${wine ? `, Wine ${wine}` : ''}`);
  for (const [title, check] of checks) {
    const started = Date.now();
    try {
      const result = await check();
      if (result && typeof result === 'object' && 'skip' in result) {
        console.log(`${file}: SKIP ${title} (${result.skip})`);
      } else {
        const details = typeof result === 'string' ? ` -- ${result}` : '';
        console.log(`${file}: ok ${title}${details} [${Date.now() - started} ms]`);
      }
    } catch (error) {
      console.error(`${file}: FAILED ${title}`);
      console.error(error);
      process.exit(1);
    }
  }
  clearTimeout(deadline);
}

/**
 * The owner-only descriptor every named object of the addon gets, as
 * GetSecurityInfo reports it: owner = the current user, a protected DACL
 * (P) with exactly one ACE, allowing (A) all access to that user. Windows
 * reports the right either generic (GA) or mapped to the object's full
 * access (FA, 0x1f01ff), depending on the object; Wine keeps GA.
 */
export function assertOwnerOnly(sddl, sid) {
  const match = /^O:([^D]+)D:([A-Z]*)((?:\([^)]*\))*)$/.exec(sddl);
  assert.ok(match, `unexpected SDDL ${sddl}`);
  const [, owner, flags, aces] = match;
  assert.equal(owner, sid, 'owner');
  assert.ok(flags.includes('P'), `the DACL is not protected: ${sddl}`);
  const list = aces.match(/\([^)]*\)/g) ?? [];
  assert.equal(list.length, 1, `expected one ACE: ${sddl}`);
  const [type, aceFlags, rights, , , trustee] = list[0].slice(1, -1).split(';');
  assert.equal(type, 'A');
  assert.equal(aceFlags, '');
  assert.ok(['GA', 'FA', '0x1f01ff'].includes(rights), `rights ${rights}`);
  assert.equal(trustee, sid);
}
