#!/usr/bin/env node
// Builds the native kernels addon (packages/kernels/native, Node-API, C) with node-gyp against the
// local Node headers — offline: --nodedir points at the headers beside this Node, so nothing is
// downloaded — and copies it to packages/kernels/prebuilds/<platform>-<arch>/rxrnn-kernels.node,
// where the published package carries it. Skips the build when sources, flags, Node and node-gyp
// are unchanged. With --optional (the root prepare script) a failure is a warning: the kernels
// then run on WASM and backendInfo() says why.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const optional = process.argv.includes('--optional');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages/kernels');
const nativeDir = join(pkg, 'native');
const built = join(nativeDir, 'build/Release/rxrnn_kernels.node');
const target = `${process.platform}-${process.arch}`;
const outDir = join(pkg, 'prebuilds', target);
const outFile = join(outDir, 'rxrnn-kernels.node');
const stampFile = join(nativeDir, 'build/prebuild.stamp');

function fail(message) {
  if (optional) {
    console.warn(`build-native: ${message}\nbuild-native: continuing without the native backend (kernels run on WASM)`);
    process.exit(0);
  }
  console.error(`build-native: ${message}`);
  process.exit(1);
}

// The headers of this very Node: <prefix>/include/node/node_api.h beside <prefix>/bin/node.
const nodedir = process.env.RXRNN_NODEDIR || dirname(dirname(process.execPath));
if (!existsSync(join(nodedir, 'include/node/node_api.h'))) {
  fail(`no Node headers at ${join(nodedir, 'include/node')} (set RXRNN_NODEDIR to a Node prefix that has them)`);
}
const gypDir = join(root, 'node_modules/node-gyp');
if (!existsSync(join(gypDir, 'bin/node-gyp.js'))) fail('node-gyp is not installed (npm ci installs it)');

const hash = createHash('sha256');
for (const f of ['binding.gyp', ...readdirSync(join(nativeDir, 'src')).map((f) => `src/${f}`)].sort()) {
  hash.update(f).update(readFileSync(join(nativeDir, f)));
}
hash.update(readFileSync(fileURLToPath(import.meta.url)));
hash.update(process.version).update(target).update(nodedir);
hash.update(JSON.parse(readFileSync(join(gypDir, 'package.json'), 'utf8')).version);
const stamp = hash.digest('hex');
if (existsSync(outFile) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) process.exit(0);

const t0 = Date.now();
const gyp = spawnSync(
  process.execPath,
  [join(gypDir, 'bin/node-gyp.js'), 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn', `--jobs=2`],
  { cwd: nativeDir, encoding: 'utf8', env: { ...process.env, npm_config_nodedir: nodedir } },
);
if (gyp.status !== 0 || !existsSync(built)) {
  fail(`node-gyp rebuild failed (exit ${gyp.status})\n${gyp.stdout ?? ''}${gyp.stderr ?? ''}${gyp.error ?? ''}`);
}
mkdirSync(outDir, { recursive: true });
copyFileSync(built, outFile);
writeFileSync(stampFile, stamp);
console.log(
  `build-native: wrote packages/kernels/prebuilds/${target}/rxrnn-kernels.node (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
);
