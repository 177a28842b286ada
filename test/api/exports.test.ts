/**
 * The values each entry exports at run time, spelled out: an application's
 * entry stays small, and the umbrella hands out the packages' own objects.
 */
import { expect, it } from 'vitest';
import * as core from '@procwire/core';
import * as transports from '@procwire/transports';
import * as procwire from 'procwire';
import * as link from 'procwire/link';

const APP = [
  'ErrorCode',
  'ProcwireError',
  'availableSchemes',
  'connect',
  'defineChannel',
  'listNamedObjects',
  'openSemaphore',
  'removeSemaphore',
  'removeStaleObjects',
  'serve',
  'spawn',
];

it('procwire exports what an application uses, and nothing of the wire', () => {
  expect(Object.keys(procwire).sort()).toEqual(APP);
});

it('procwire/link exports no application value twice', () => {
  expect(Object.keys(link).filter((name) => APP.includes(name))).toEqual([]);
});

it('both entries hand out the packages own objects, not copies', () => {
  expect(procwire.ProcwireError).toBe(core.ProcwireError);
  expect(procwire.serve).toBe(transports.serve);
  expect(link.encode).toBe(core.encode);
  expect(link.registerTransport).toBe(transports.registerTransport);
});
