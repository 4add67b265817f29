// A throwaway consumer project outside the repo: installs the packages (tarballs or a registry)
// with rxjs, then runs the consumers in ./consumers (ESM, CommonJS, tsc NodeNext) against them.
// Owns the temp folders it creates; withTempDir removes them whatever happens.
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, npm, ROOT, run } from './workspace.mjs';

const CONSUMERS = join(dirname(fileURLToPath(import.meta.url)), 'consumers');
export const RXJS_RANGE = '^7.8.0';

// Folders still in use; removed at exit too, should a test runner abandon a timed-out test.
const live = new Set();
process.once('exit', () => {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn(dir)` with a fresh folder under os.tmpdir() and removes it afterwards. */
export async function withTempDir(prefix, fn) {
  const dir = mkdtempSync(join(realpathSync(tmpdir()), prefix));
  live.add(dir);
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    live.delete(dir);
  }
}

/**
 * Writes package.json (+ .npmrc when given) for a consumer of `dependencies` (name → spec: a
 * tarball path, a version) and runs `npm install` there. `registry` switches npm to another
 * registry (e.g. a local verdaccio); `userconfig` is the npmrc npm reads instead of ~/.npmrc.
 */
export async function installConsumer(dir, { dependencies, registry, userconfig, timeoutMs = 150_000 }) {
  const manifest = {
    name: 'rxrnn-consumer',
    version: '0.0.0',
    private: true,
    dependencies: { rxjs: RXJS_RANGE, ...dependencies },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const args = ['install', '--no-audit', '--no-fund', '--no-update-notifier', '--prefer-offline', '--loglevel=error'];
  if (registry) args.push('--registry', registry);
  const env = npmEnv({ userconfig });
  return npm(args, { cwd: dir, env, timeoutMs });
}

/** A clean child environment for npm, optionally reading a given npmrc as the user config. */
export function npmEnv({ userconfig } = {}) {
  return cleanEnv(userconfig ? { NPM_CONFIG_USERCONFIG: userconfig } : {});
}

/** Copies the consumer sources into `dir`. */
export function writeConsumers(dir) {
  for (const f of ['scenario.cjs', 'esm.mjs', 'cjs.cjs', 'typed.mts', 'typed-require.cts'])
    copyFileSync(join(CONSUMERS, f), join(dir, f));
  // The repo's @types/node stands in for the one a Node TypeScript project would install.
  const tsconfig = readFileSync(join(CONSUMERS, 'tsconfig.json'), 'utf8').replace(
    '__TYPE_ROOTS__',
    join(ROOT, 'node_modules', '@types'),
  );
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig);
}

/** Runs a consumer file with node and returns the JSON summary it printed last. */
export async function runNodeConsumer(dir, file) {
  const { stdout } = await run(process.execPath, [file], { cwd: dir, env: npmEnv(), timeoutMs: 120_000 });
  const line = stdout.trim().split('\n').at(-1);
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${file} printed no JSON summary:\n${stdout}`);
  }
}

/** Type-checks the TypeScript consumers with the repo's tsc; resolves with tsc's output. */
export async function typecheckConsumer(dir) {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const { stdout } = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
    cwd: dir,
    env: npmEnv(),
    timeoutMs: 120_000,
  });
  return stdout;
}
