// The conformance tests skipped under Wine, each with the reason: only where
// Wine itself differs from Windows, detected by the addon's
// platformInfo().wineVersion (null on Windows), so real Windows runs them all.
import { loadNative } from '@procwire/native';

/** [transport (the suite's EndpointKind name) or '*', test name, why Wine cannot pass it]. */
const UNDER_WINE = [
  [
    'tcp',
    'rejects pending calls and open streams with PEER_GONE when the server dies',
    // Measured with Wine 8.0 (see README.md here): 7 of 12 kills of a
    // streaming server, 0 of 8 of an idle one; npipe: 0 of 12.
    'a TCP server killed (TerminateProcess) while it streams often keeps its connection open: ' +
      "wineserver still holds the dead process's socket (ss: ESTAB, owned by wineserver64), so the client " +
      'never sees the close; Windows closes the sockets of a terminated process',
  ],
];

let wineVersion;

/** Wine's version when this process runs under Wine, else null. */
export function runningUnderWine() {
  if (wineVersion === undefined) {
    // On win32 the addon must load: without it Wine could not be told from Windows.
    wineVersion = process.platform === 'win32' ? loadNative().platformInfo().wineVersion : null;
  }
  return wineVersion;
}

/** Why the test at `path` (describe names, then the test's) is skipped here, or undefined. */
export function wineSkipReason(path) {
  const suite = path.at(-2) ?? '';
  const test = path.at(-1);
  const entry = UNDER_WINE.find(([s, t]) => t === test && (s === '*' || suite === `conformance: ${s}`));
  if (!entry || runningUnderWine() === null) return undefined;
  return `Wine ${runningUnderWine()}: ${entry[2]}`;
}
