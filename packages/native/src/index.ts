/**
 * @procwire/native: the OS primitives Node lacks, as non-blocking mechanism.
 * Every export of the addon is declared, with its contract, in ./native.ts.
 */
import { loadBinding } from './load.js';
import type { NativeBinding } from './native.js';
import type { WindowsBinding } from './windows.js';

export type {
  FdReadyCallback,
  FdStat,
  FdWatcher,
  FdWatcherConstructor,
  MqAttributes,
  NativeBinding,
  NativeConstants,
  NativeSystemError,
  PeerCredentials,
  SegmentInfo,
  ShmChannel,
  ShmChannelConstructor,
} from './native.js';
export type {
  MailslotMessageCallback,
  MailslotReader,
  MailslotReaderConstructor,
  MailslotWriter,
  MailslotWriterConstructor,
  PipeConnectionCallback,
  PipeListener,
  PipeListenerConstructor,
  WindowsBinding,
  WindowsConstants,
  WindowsErrorCallback,
  WindowsPlatformInfo,
  WindowsSystemError,
} from './windows.js';
export { NATIVE_BINARY_ENV, NATIVE_UNAVAILABLE, REBUILD_COMMAND, nativeBinaryPath } from './load.js';

let loaded: NativeBinding | undefined;

/** Loads the addon now (throwing `ERR_PROCWIRE_NATIVE_UNAVAILABLE` with the fix if it cannot be). */
export function loadNative(): NativeBinding {
  if (loaded === undefined) {
    loaded = loadBinding();
    // Importers of `native` see the binding itself from now on (ESM exports
    // are live bindings), so only the first use pays for the proxy below.
    native = loaded;
  }
  return loaded;
}

/**
 * The addon, loaded on first use: importing this package never throws, even
 * on a platform without the addon; the first property access does, with
 * `code: 'ERR_PROCWIRE_NATIVE_UNAVAILABLE'`.
 */
export let native: NativeBinding = new Proxy({} as NativeBinding, {
  get: (_target, key) => Reflect.get(loadNative(), key),
  has: (_target, key) => Reflect.has(loadNative(), key),
  ownKeys: () => Reflect.ownKeys(loadNative()),
  getOwnPropertyDescriptor: (_target, key) => Reflect.getOwnPropertyDescriptor(loadNative(), key),
});

/**
 * The Windows build of the addon (src/win/, declared in ./windows.ts), loaded
 * on first use like `native`. Throws ERR_PROCWIRE_NATIVE_UNAVAILABLE off Windows.
 */
export function windowsNative(): WindowsBinding {
  if (process.platform !== 'win32') {
    const error = new Error(`the Windows addon exists only on Windows (this is ${process.platform})`) as Error & { code: string };
    error.code = 'ERR_PROCWIRE_NATIVE_UNAVAILABLE';
    throw error;
  }
  return loadNative() as unknown as WindowsBinding;
}
