/**
 * The names an endpoint puts in the file system and the kernel, so that what
 * a killed process left behind can be found and removed. A name is "live"
 * while a server answers on it; only stale names are ever removed, so a live
 * server's names are never taken over. Each transport knows its own names
 * (its `namedObjects`); see there what each leaves.
 */
import { ErrorCode, ProcwireError } from '@procwire/core';
import { parseEndpoint, type Endpoint } from './endpoint.js';
import { registeredTransport } from './registry.js';
import type { NamedObject, NamedObjects } from './transport.js';

export type { NamedObject } from './transport.js';

function namedObjectsOf(url: string): { endpoint: Endpoint; names: NamedObjects } {
  const endpoint = parseEndpoint(url);
  const names = registeredTransport(endpoint.scheme)?.namedObjects;
  if (!names) throw new ProcwireError(ErrorCode.INVALID_ENDPOINT, `${url}: ${endpoint.scheme}: endpoints leave no named objects to list`);
  return { endpoint, names };
}

/** Lists the named objects that belong to the endpoint `url`. */
export async function listNamedObjects(url: string): Promise<NamedObject[]> {
  const { endpoint, names } = namedObjectsOf(url);
  return names.list(endpoint);
}

/** Removes the stale named objects of the endpoint `url`; returns what was removed. Live ones are left alone. */
export async function removeStaleObjects(url: string): Promise<NamedObject[]> {
  const { endpoint, names } = namedObjectsOf(url);
  const removed: NamedObject[] = [];
  for (const object of await names.list(endpoint)) {
    if (object.state !== 'stale') continue;
    try {
      names.remove(object, endpoint);
      removed.push(object);
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
