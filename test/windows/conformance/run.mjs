// Runs the conformance suite compiled to JavaScript (test/windows/dist, from
// `tsc -p test/windows/tsconfig.json`) with node:test and the vitest shim:
//
//   .ci/wine/run-node.sh <major> test/windows/conformance/run.mjs   (node.exe under Wine)
//   node test/windows/conformance/run.mjs                           (Linux, to check the shim)
//
// It starts one more Node with what the run needs (run-node.sh passes no
// flags): the spec reporter, source maps so stack traces name the .ts lines,
// and register.mjs through NODE_OPTIONS, so the fixture servers the suite
// starts get the same module hooks. The exit code is that Node's: 1 when any
// test failed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runningUnderWine } from './wine.mjs';

const suite = fileURLToPath(new URL('../dist/conformance/transports.test.js', import.meta.url));
if (!existsSync(suite)) {
  console.error(`conformance: ${suite} is missing; build it with npx tsc -p test/windows/tsconfig.json`);
  process.exit(2);
}
const wine = runningUnderWine();
console.log(`conformance: Node ${process.version} ${process.platform}-${process.arch}${wine === null ? '' : ` under Wine ${wine}`}`);

const register = new URL('./register.mjs', import.meta.url).href;
const started = performance.now();
const child = spawn(process.execPath, ['--enable-source-maps', '--test-reporter=spec', suite], {
  stdio: 'inherit',
  env: {
    ...process.env,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${register}`].filter(Boolean).join(' '),
    PROCWIRE_TEST_DEDUPE_PACKAGES: wine === null ? '' : '1',
  },
});
child.on('exit', (code, signal) => {
  console.log(
    `conformance: Node ${process.version} finished in ${((performance.now() - started) / 1000).toFixed(1)} s, exit ${code ?? signal}`,
  );
  process.exit(code ?? 1);
});
