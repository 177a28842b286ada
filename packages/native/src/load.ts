/**
 * Finds and loads the compiled addon. The only place that knows where the
 * binary lives, and the one that explains what to do when it cannot be used.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './native.js';

/** Set to a binary's path to load that one instead (the sanitizer build, see README.md). */
export const NATIVE_BINARY_ENV = 'PROCWIRE_NATIVE_BINARY';

/** The command that builds the addon for the Node that runs it. */
export const REBUILD_COMMAND = 'npx -y pnpm@12.4.2 --filter @procwire/native run build';

/** `code` of the error thrown when the addon is missing or cannot be loaded. */
export const NATIVE_UNAVAILABLE = 'ERR_PROCWIRE_NATIVE_UNAVAILABLE';

const require = createRequire(import.meta.url);

/** Where the addon is loaded from: `$PROCWIRE_NATIVE_BINARY`, else the release build next to `dist/`. */
export function nativeBinaryPath(): string {
  const override = process.env[NATIVE_BINARY_ENV];
  if (override) return override;
  return fileURLToPath(new URL('../build/Release/procwire_native.node', import.meta.url));
}

function unavailable(problem: string, cause?: unknown): Error {
  const runtime =
    `Node ${process.version}, ABI ${process.versions.modules}, Node-API ${process.versions.napi ?? '?'}, ` +
    `${process.platform}-${process.arch}`;
  const hint =
    process.platform === 'win32'
      ? `Rebuild it with: ${REBUILD_COMMAND} (on Windows this needs the Visual Studio C++ build tools; without the addon the mailslot: and npipe: servers are unavailable).`
      : `Rebuild it with: ${REBUILD_COMMAND}`;
  const error = new Error(`procwire native addon ${problem} (${runtime}). ${hint}`, { cause });
  return Object.assign(error, { code: NATIVE_UNAVAILABLE });
}

/**
 * Loads the addon, or throws an Error with `code: 'ERR_PROCWIRE_NATIVE_UNAVAILABLE'`
 * that names the binary, the running Node's ABI and platform, and the command
 * that rebuilds it. Node caches a loaded addon, so calling this again is cheap.
 */
export function loadBinding(): NativeBinding {
  const path = nativeBinaryPath();
  if (!existsSync(path)) throw unavailable(`is missing: ${path} does not exist`);
  try {
    return require(path) as NativeBinding;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw unavailable(`cannot be loaded from ${path}: ${reason}`, cause);
  }
}
