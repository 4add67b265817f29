#!/usr/bin/env node
// The installed-tarball check: build, `npm pack` every package, install the tarballs with rxjs
// (from the npm registry) into a fresh project under os.tmpdir(), and run the ESM, CommonJS and
// tsc consumers there. `node tools/pack/installed.mjs` runs it by hand and prints the timings.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installConsumer, runNodeConsumer, typecheckConsumer, withTempDir, writeConsumers } from './consumer.mjs';
import { ensureBuilt, packAll, stepTimer } from './workspace.mjs';

/** Every installed copy of package `name` under dir/node_modules (relative paths). */
export function findPackageCopies(dir, name) {
  const found = [];
  const walk = (nm) => {
    if (!existsSync(nm)) return;
    for (const entry of readdirSync(nm)) {
      const scoped = entry.startsWith('@') ? readdirSync(join(nm, entry)).map((e) => `${entry}/${e}`) : [entry];
      for (const pkg of scoped) {
        if (pkg === name) found.push(relative(dir, join(nm, pkg)));
        walk(join(nm, pkg, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return found.sort();
}

/** Resolves with {tarballs, rxjsCopies, esm, cjs, tsc, timings}; rejects with the failing step's output. */
export async function checkInstalledTarballs({ log = () => {} } = {}) {
  const { timings, timed } = stepTimer(log);
  await timed('build', ensureBuilt);
  return withTempDir('rxrnn-tarballs-', async (packDir) => {
    const reports = await timed('pack', () => packAll(packDir));
    return withTempDir('rxrnn-consumer-', async (dir) => {
      const dependencies = Object.fromEntries(reports.map((r) => [r.name, `file:${r.tarball}`]));
      await timed('install', () => installConsumer(dir, { dependencies }));
      const rxjsCopies = findPackageCopies(dir, 'rxjs');
      writeConsumers(dir);
      const esm = await timed('esm', () => runNodeConsumer(dir, 'esm.mjs'));
      const cjs = await timed('cjs', () => runNodeConsumer(dir, 'cjs.cjs'));
      const tsc = await timed('tsc', () => typecheckConsumer(dir));
      return {
        tarballs: reports.map((r) => ({ name: r.name, version: r.version, size: r.size, files: r.entryCount })),
        rxjsCopies,
        esm,
        cjs,
        tsc,
        timings,
      };
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await checkInstalledTarballs({ log: (m) => console.error(m) });
  console.log(JSON.stringify(result, null, 2));
}
