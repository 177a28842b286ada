#!/usr/bin/env node
// Builds the addon with node-gyp against the headers of the Node running this
// script (<prefix>/include/node, shipped with the system Node and with the
// official builds), so nothing is downloaded and the result matches the Node
// that will load it. pnpm runs it as the package's `install` script.
//
//   node scripts/build.mjs              build/Release/procwire_native.node
//   node scripts/build.mjs --sanitize   build-asan/build/Debug/procwire_native.node
//                                       (AddressSanitizer + UBSan, see README.md)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const sanitize = process.argv.includes('--sanitize');

if (process.platform === 'win32') {
  // Windows: node-gyp with MSVC and the headers and node.lib it downloads
  // (official Windows builds ship no include/node). A machine without the
  // Visual Studio C++ tools still gets a working install: only the
  // transports that need the addon (mailslot:, npipe: servers) are missing,
  // and the loader's error names the fix.
  const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--jobs=max', '--loglevel=warn'], { cwd: packageDir, stdio: 'inherit' });
  if (result.status !== 0) {
    console.warn(
      '@procwire/native: node-gyp could not build the addon (it needs the Visual Studio C++ build tools); mailslot: and npipe: servers will be unavailable.',
    );
  }
  process.exit(0);
}

const nodeDir = dirname(dirname(process.execPath));
const headers = join(nodeDir, 'include', 'node');
for (const file of ['node_api.h', 'common.gypi', 'uv.h']) {
  if (!existsSync(join(headers, file))) {
    console.error(
      `@procwire/native: ${join(headers, file)} is missing. This Node (${process.execPath}) ` +
        "ships without its headers; use an official build or install the distribution's Node headers package.",
    );
    process.exit(1);
  }
}

// The sanitized build happens in its own directory (node-gyp always builds
// into ./build and `rebuild` wipes it), so the release binary survives it.
let cwd = packageDir;
if (sanitize) {
  cwd = join(packageDir, 'build-asan');
  rmSync(cwd, { recursive: true, force: true });
  mkdirSync(cwd);
  copyFileSync(join(packageDir, 'binding.gyp'), join(cwd, 'binding.gyp'));
  symlinkSync(join(packageDir, 'src'), join(cwd, 'src'));
}

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const args = [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`, '--jobs=max', '--loglevel=warn'];
if (sanitize) args.push('--debug', '--', '-Dprocwire_sanitize=1');
const result = spawnSync(process.execPath, args, {
  cwd,
  stdio: 'inherit',
  env: {
    ...process.env,
    // binding.gyp asks `node` for node-addon-api's include directory: make it this Node.
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    npm_config_nodedir: nodeDir,
  },
});
if (result.status !== 0) {
  console.error(`@procwire/native: node-gyp failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}).`);
  console.error('It needs python3, make and a C++17 compiler (g++ or clang++).');
  process.exit(1);
}
const binary = join(cwd, 'build', sanitize ? 'Debug' : 'Release', 'procwire_native.node');
console.log(`@procwire/native: built ${binary} for Node ${process.version} (${process.platform}-${process.arch})`);
