#!/usr/bin/env node
// Cross-builds the Windows addon on Linux with mingw-w64, from the same
// sources a Windows user builds with node-gyp and MSVC (src/win, src/common),
// so CI can test it in the official node.exe under Wine (.ci/wine/).
//
//   node scripts/cross-win.mjs [--werror]   build-win/Release/procwire_native.node
//
// The compiler is mingw-w64's posix-thread g++: the default win32-thread one
// has no std::mutex, which node-addon-api needs. `-static` links libstdc++,
// libgcc and winpthread into the addon, so it needs no DLL besides Windows'
// own and node.exe. The Node-API functions are imported from node.exe through
// an import library that dlltool makes from node-api-headers' .def file
// (MSVC builds link node.lib instead).
//
// node-api-headers is found through $PROCWIRE_NODE_API_HEADERS (the unpacked
// package, as .ci/wine/setup.sh fetches it) or, failing that, resolved from
// this package.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TRIPLE = 'x86_64-w64-mingw32';
const CXX = process.env.PROCWIRE_MINGW_CXX ?? `${TRIPLE}-g++-posix`;
const DLLTOOL = process.env.PROCWIRE_MINGW_DLLTOOL ?? `${TRIPLE}-dlltool`;
const DEBIAN_PACKAGES = 'g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64';

// The same as binding.gyp's, so both builds compile the same code.
const DEFINES = ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED', 'NAPI_CPP_EXCEPTIONS'];
const CXXFLAGS = ['-std=c++17', '-fexceptions', '-Wall', '-Wextra', '-O2'];

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const werror = process.argv.includes('--werror');

/** A failure explained to the user: printed without a stack trace. */
class BuildError extends Error {}

function fail(message) {
  throw new BuildError(message);
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.error?.code === 'ENOENT') {
    fail(`${command} is not installed. On Debian: apt-get install ${DEBIAN_PACKAGES} (or run .ci/wine/setup.sh).`);
  }
  if (result.status !== 0) {
    fail(`${command} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}).`);
  }
}

function nodeApiHeaders() {
  const fromEnv = process.env.PROCWIRE_NODE_API_HEADERS;
  let dir = fromEnv;
  if (!dir) {
    try {
      dir = dirname(require.resolve('node-api-headers/package.json'));
    } catch {
      fail(
        'node-api-headers was not found. Set PROCWIRE_NODE_API_HEADERS to the unpacked npm package ' +
          '(.ci/wine/setup.sh prints it) or install it next to this package.',
      );
    }
  }
  // node_api.def lists js_native_api's functions too: it is all of Node-API.
  const include = join(dir, 'include');
  const def = join(dir, 'def', 'node_api.def');
  for (const file of [join(include, 'node_api.h'), def]) {
    if (!existsSync(file)) {
      fail(`${file} is missing: ${fromEnv ? '$PROCWIRE_NODE_API_HEADERS' : dir} is not node-api-headers.`);
    }
  }
  return { include, def };
}

function build() {
  const headers = nodeApiHeaders();
  const addonApiInclude = require('node-addon-api').include_dir;
  // The Windows sources and the platform-neutral ones beside them.
  const sourcesIn = (dir) =>
    readdirSync(join(packageDir, 'src', dir))
      .filter((name) => name.endsWith('.cc'))
      .sort()
      .map((name) => join(packageDir, 'src', dir, name));
  if (sourcesIn('win').length === 0) fail('src/win holds no .cc files.');
  const sources = [...sourcesIn('common'), ...sourcesIn('win')];

  const outDir = join(packageDir, 'build-win', 'Release');
  const output = join(outDir, 'procwire_native.node');
  // A failed build must not leave the previous binary for the tests to load.
  rmSync(output, { force: true });
  mkdirSync(outDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'procwire-cross-win-'));
  try {
    const importLibrary = join(scratch, 'libnode_api.a');
    run(DLLTOOL, ['-d', headers.def, '-l', importLibrary, '-D', 'node.exe']);
    run(CXX, [
      ...CXXFLAGS,
      ...(werror ? ['-Werror'] : []),
      ...DEFINES.map((define) => `-D${define}`),
      `-I${addonApiInclude}`,
      `-I${headers.include}`,
      `-I${join(packageDir, 'src', 'common')}`,
      '-shared',
      '-static',
      '-s',
      '-o',
      output,
      ...sources,
      importLibrary,
    ]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`@procwire/native: cross-built ${output} (win32-x64, Node-API 8) from ${sources.length} sources`);
}

try {
  build();
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  console.error(`@procwire/native cross-win: ${error.message}`);
  process.exitCode = 1;
}
