#!/usr/bin/env node
// `npm test`: build the WASM kernels (and the native addon when its sources changed), run the whole vitest suite, and close with one plain
// summary line ("Tests: N passed, N failed, N skipped") that CI logs can be read by.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', shell: false });

const wasm = run(process.execPath, ['tools/build-wasm.mjs']);
if (wasm.status !== 0) process.exit(wasm.status ?? 1);
const native = run(process.execPath, ['tools/build-native.mjs', '--optional']);
if (native.status !== 0) process.exit(native.status ?? 1);

const dir = mkdtempSync(join(tmpdir(), 'rxrnn-test-'));
const report = join(dir, 'vitest.json');
const vitest = run(process.execPath, [
  'node_modules/vitest/vitest.mjs',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`\nTests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
} catch {
  console.log('\nTests: 0 passed, 1 failed (vitest wrote no report)');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(vitest.status ?? 1);
