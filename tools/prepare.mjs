#!/usr/bin/env node
// `npm ci` / `npm install` (the root prepare script): builds what the sources need to run (the
// WebAssembly kernels) and, inside a git checkout, enables the commit-message hook in .githooks/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const built = spawnSync(process.execPath, ['tools/build-wasm.mjs'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

if (existsSync('.git')) {
  try {
    execFileSync('git', ['config', 'core.hooksPath', '.githooks'], { stdio: 'ignore' });
  } catch {
    // Not fatal: the hook is a convenience; CI checks the history with tools/check-commits.mjs.
  }
}
