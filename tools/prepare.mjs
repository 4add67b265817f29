#!/usr/bin/env node
// `npm ci` / `npm install` (the root prepare script): builds what the sources need to run (the
// WebAssembly kernels, and the native kernels addon where a C compiler and the Node headers are
// present — without them the kernels run on WASM) and, inside a git checkout, enables the
// commit-message hook in .githooks/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const built = spawnSync(process.execPath, ['tools/build-wasm.mjs'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
const native = spawnSync(process.execPath, ['tools/build-native.mjs', '--optional'], { stdio: 'inherit' });
if (native.status !== 0) process.exit(native.status ?? 1);

if (existsSync('.git')) {
  try {
    execFileSync('git', ['config', 'core.hooksPath', '.githooks'], { stdio: 'ignore' });
  } catch {
    // Not fatal: the hook is a convenience; CI checks the history with tools/check-commits.mjs.
  }
}
