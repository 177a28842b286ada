// Run by .ci/wine/run-node.sh in the official node.exe under Wine: the
// cross-built addon loads through @procwire/native's own loader (pointed at
// it by PROCWIRE_NATIVE_BINARY) and its functions can be called.
import assert from 'node:assert/strict';
import { loadNative, nativeBinaryPath } from '@procwire/native';

assert.equal(process.platform, 'win32');
assert.match(nativeBinaryPath(), /^[A-Za-z]:\\.*\\procwire_native\.node$/);

const native = loadNative();
const info = native.platformInfo();
assert.equal(info.pid, process.pid);
assert.equal(info.windowsVersion, `${info.major}.${info.minor}.${info.build}`);
// Node 20 and later refuse to start before Windows 10 (8.1 is 6.3).
assert.ok(info.major >= 10, `Windows ${info.windowsVersion}`);
assert.ok(info.wineVersion === null || typeof info.wineVersion === 'string');
assert.ok(Object.isFrozen(native.constants));
assert.equal(native.constants.ERROR_PIPE_BUSY, 231);

console.log(`load: Node ${process.version} ${process.arch} loaded ${nativeBinaryPath()}`);
console.log(`load: platformInfo() = ${JSON.stringify(info)}`);
