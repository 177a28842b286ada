// Module resolve hooks, registered by register.mjs in the test process and in
// every fixture process it starts:
//
// - The bare specifier `vitest` resolves to the shim beside this file.
// - Under Wine, one package reached through two links loads once. pnpm links
//   packages into each other's node_modules; Windows resolves those links
//   (junctions) to one real path, but Wine does not see Unix symlinks as links
//   (realpath keeps the link's path), so @procwire/core would load once per
//   package that depends on it, with two ProcwireError classes: instanceof
//   fails and a handler's own error code is lost. Each package (name@version)
//   keeps the first directory it was reached through.
import { readFileSync } from 'node:fs';

const SHIM = new URL('./vitest.mjs', import.meta.url).href;

let dedupe = false;
/** 'name@version' -> the directory URL (ending in '/') that package loads from. */
const firstRoot = new Map();
/** directory URL -> 'name@version' (or null: no readable package.json). */
const identities = new Map();

export function initialize(data) {
  dedupe = data?.dedupe === true;
}

/** The package directory of a file URL: up to the last node_modules/<name>/ or node_modules/@scope/<name>/. */
function packageRoot(url) {
  const match = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/)/.exec(url);
  return match?.[1];
}

function identity(root) {
  if (!identities.has(root)) {
    let id = null;
    try {
      const { name, version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
      if (name && version) id = `${name}@${version}`;
    } catch {
      // not a package root (a nested directory without package.json)
    }
    identities.set(root, id);
  }
  return identities.get(root);
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'vitest') return { url: SHIM, shortCircuit: true };
  const resolved = await nextResolve(specifier, context);
  if (!dedupe || !resolved.url.startsWith('file:')) return resolved;
  const root = packageRoot(resolved.url);
  const id = root && identity(root);
  if (!id) return resolved;
  const first = firstRoot.get(id);
  if (first === undefined) {
    firstRoot.set(id, root);
    return resolved;
  }
  return first === root ? resolved : { ...resolved, url: first + resolved.url.slice(root.length) };
}
