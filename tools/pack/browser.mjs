#!/usr/bin/env node
// Browser smoke check: bundles an entry that re-exports every package's browser entry points
// (every export subpath but the Node-only './node', from the built dist as a bundler sees the
// published packages) with esbuild for the browser (ESM, nothing external) and reports every
// import that cannot work there: Node built-ins and anything unresolved.
// Running the bundle in a browser is the app's browser test.
// `node tools/pack/browser.mjs [@rxrnn/name ...]` (default: all packages together).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isBuiltin } from './contents.mjs';
import { ensureBuilt, publishablePackages, ROOT, withWorkspaceLock } from './workspace.mjs';

const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild');

/**
 * Packages with no browser entry at all, and why: the browser checks leave them out (the spec
 * checks that bundling one for the browser does fail on Node built-ins).
 */
export const NODE_ONLY = new Map([
  ['@rxrnn/nats', 'workers on NATS: TCP connections (@nats-io/transport-node) and nats-server child processes'],
]);

/** The publishable packages a browser may import (all but NODE_ONLY). */
export function browserPackages() {
  return publishablePackages()
    .map((p) => p.name)
    .filter((name) => !NODE_ONLY.has(name));
}

/**
 * What a browser may import: every package's export subpaths but './package.json' and the
 * Node-only ones ('./node', e.g. @rxrnn/trainer/node for files and worker threads).
 */
export function browserSpecifiers(names = browserPackages()) {
  const pkgs = publishablePackages();
  return names.flatMap((name) => {
    const exportsMap = pkgs.find((p) => p.name === name)?.manifest.exports ?? { '.': null };
    return Object.keys(exportsMap)
      .filter((k) => k !== './package.json' && !/(^|\/)node$/.test(k))
      .map((k) => (k === '.' ? name : `${name}/${k.slice(2)}`));
  });
}

/** The entry: `export * as <id> from '<specifier>'` for each, so nothing is shaken off. */
export function browserEntry(names) {
  return browserSpecifiers(names)
    .map((spec, i) => `export * as ${spec.replace(/^@rxrnn\//, '').replace(/[^a-zA-Z0-9]/g, '_')}_${i} from '${spec}';`)
    .join('\n');
}

/**
 * Resolves with {ok, errors, warnings, nodeImports, inputs, bytes}: `errors` are esbuild's
 * messages (an unresolved import or a Node built-in fails the build on platform "browser"),
 * `nodeImports` every built-in any bundled file still imports (with the importer).
 * @param {{ packages?: string[], build?: boolean }} [options]
 */
export async function bundleForBrowser({ packages, build = true } = {}) {
  if (build) await ensureBuilt();
  const format = (m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`;
  let result;
  try {
    result = await withWorkspaceLock(() =>
      esbuild.build({
        stdin: { contents: browserEntry(packages), resolveDir: ROOT, sourcefile: 'browser-entry.mjs', loader: 'js' },
        bundle: true,
        platform: 'browser',
        format: 'esm',
        target: 'es2022',
        external: [],
        absWorkingDir: ROOT,
        write: false,
        metafile: true,
        logLevel: 'silent',
      }),
    );
  } catch (err) {
    if (!Array.isArray(err.errors)) throw err;
    return {
      ok: false,
      errors: err.errors.map(format),
      warnings: (err.warnings ?? []).map(format),
      nodeImports: nodeImportsOf(err.errors),
      inputs: [],
      bytes: 0,
    };
  }
  const nodeImports = [];
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    // '<runtime>' is esbuild's own helper code inside the bundle (e.g. __require for a computed
    // require() inside try/catch, as protobufjs probes for optional modules), not an import.
    for (const imp of input.imports)
      if ((imp.external && imp.path !== '<runtime>') || isBuiltin(imp.path))
        nodeImports.push(`${file} imports ${imp.path}`);
  }
  const errors = result.errors.map(format);
  return {
    ok: errors.length === 0 && nodeImports.length === 0,
    errors,
    warnings: result.warnings.map(format),
    nodeImports,
    inputs: Object.keys(result.metafile.inputs),
    bytes: result.outputFiles.reduce((n, f) => n + f.contents.length, 0),
  };
}

// esbuild's "Could not resolve" errors for built-ins, as "<file> imports <module>".
function nodeImportsOf(errors) {
  return errors
    .map((e) => [e.location?.file, /Could not resolve "([^"]+)"/.exec(e.text)?.[1]])
    .filter(([, spec]) => spec && isBuiltin(spec))
    .map(([file, spec]) => `${file} imports ${spec}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const names = process.argv.slice(2);
  const { inputs, ...r } = await bundleForBrowser({ packages: names.length ? names : undefined });
  console.log(JSON.stringify({ ...r, inputs: inputs.length }, null, 2));
  process.exitCode = r.ok ? 0 : 1;
}
