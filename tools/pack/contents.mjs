#!/usr/bin/env node
// What each package's tarball would hold (`npm pack --dry-run --json`) and what is wrong with it:
// required files, files that must not ship, dangling relative imports, undeclared packages,
// export-map targets that are not shipped, source maps. `node tools/pack/contents.mjs` prints it.
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, packAll, publishablePackages, ROOT } from './workspace.mjs';

const ts = createRequire(join(ROOT, 'package.json'))('typescript');

export const REQUIRED = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts'];
/**
 * Files one package needs beyond those: the kernels carry the native addon prebuilt for linux-x64
 * (installs without a compiler; tools/build-native.mjs writes it before the pack).
 */
export const REQUIRED_BY_PACKAGE = { '@rxrnn/kernels': ['prebuilds/linux-x64/rxrnn-kernels.node'] };
/** Paths that must never ship, with the reason the report gives. */
export const FORBIDDEN = [
  [/\.(spec|test)\.[cm]?[jt]sx?$/, 'a spec/test file'],
  [/(^|\/)(test|tests|__tests__|fixtures|out-tsc)\//, 'a test folder'],
  [/(^|\/)test-[^/]*$/, 'a test helper (test-*)'],
  [/^src\//, 'TypeScript source (src/ is not shipped)'],
  [/(?<!\.d)\.[cm]?tsx?$/, 'a TypeScript source file'],
  [/tsbuildinfo$/, 'a tsbuildinfo'],
  [/\.map$/, 'a source map (sources are not shipped)'],
  [/(^|\/)(vitest|vite|jest)\.config\./, 'a test runner config'],
];
const BUILTINS = new Set(builtinModules);

/** Package name of a bare specifier ('@scope/name/sub' → '@scope/name'). */
const packageOf = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
export const isBuiltin = (spec) => spec.startsWith('node:') || BUILTINS.has(packageOf(spec));

/** The problems of one package given its dry-run report; empty when it is publishable. */
export function inspectPackage(pkg, report) {
  const problems = [];
  const files = new Set(report.files.map((f) => f.path));
  const manifest = pkg.manifest;
  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);

  for (const f of [...REQUIRED, ...(REQUIRED_BY_PACKAGE[manifest.name] ?? [])]) {
    if (!files.has(f)) problems.push(`missing ${f}`);
  }
  for (const f of files) {
    if (f.endsWith('.node') && !(REQUIRED_BY_PACKAGE[manifest.name] ?? []).includes(f)) {
      problems.push(`ships ${f}: a native binary this package does not declare`);
    }
  }
  for (const f of files) {
    for (const [re, why] of FORBIDDEN) if (re.test(f)) problems.push(`ships ${f}: ${why}`);
  }

  // Every entry point the manifest names (but the repo-only source condition) must ship.
  const targets = [];
  const walk = (node, where) => {
    if (typeof node === 'string') targets.push([where, node]);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) if (k !== '@rxrnn/source') walk(v, `${where}.${k}`);
    }
  };
  walk(manifest.exports, 'exports');
  for (const k of ['main', 'types', 'module', 'browser']) if (manifest[k]) targets.push([k, manifest[k]]);
  for (const [where, target] of targets) {
    const rel = posix.normalize(target).replace(/^\.\//, '');
    if (!files.has(rel)) problems.push(`${where} → ${target}, which is not in the tarball`);
  }

  // The shipped code's own imports: relative ones resolve inside the tarball, bare ones are
  // declared (dependencies/peerDependencies) or Node built-ins (the browser check covers those).
  for (const f of files) {
    if (!/\.(m|c)?js$|\.d\.(m|c)?ts$/.test(f)) continue;
    const text = readFileSync(join(pkg.dir, f), 'utf8');
    if (/^\s*\/\/# sourceMappingURL=/m.test(text))
      problems.push(`${f} has a sourceMappingURL to a map that is not shipped`);
    if (/^\/\/[^\n]*test-only/i.test(text.slice(0, 400))) problems.push(`ships ${f}: its header says it is test-only`);
    const info = ts.preProcessFile(text, true, true);
    for (const ref of info.typeReferenceDirectives) {
      if (!declared.has(ref.fileName)) problems.push(`${f} references types "${ref.fileName}", not a dependency`);
    }
    for (const { fileName: spec } of info.importedFiles) {
      if (spec.startsWith('.')) {
        const target = posix.join(posix.dirname(f), spec);
        const candidates = f.endsWith('.ts') ? [target, target.replace(/\.(m|c)?js$/, '.d.$1ts')] : [target];
        if (!candidates.some((c) => files.has(c))) problems.push(`${f} imports ${spec}, which is not in the tarball`);
      } else if (!isBuiltin(spec) && !declared.has(packageOf(spec))) {
        problems.push(`${f} imports ${spec}, which is not a dependency or peerDependency`);
      }
    }
  }
  return problems;
}

/** Builds (once), dry-runs `npm pack` for every package, and inspects each tarball. */
export async function checkPackContents() {
  await ensureBuilt();
  const pkgs = publishablePackages();
  const reports = await packAll();
  return pkgs.map((pkg) => {
    const report = reports.find((r) => r.name === pkg.name);
    if (!report) return { name: pkg.name, files: [], problems: ['npm pack reported nothing for it'] };
    return {
      name: pkg.name,
      files: report.files.map((f) => f.path),
      size: report.size,
      problems: inspectPackage(pkg, report),
    };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await checkPackContents();
  for (const r of results) {
    console.log(`${r.name}: ${r.files.length} files, ${r.size} bytes packed`);
    for (const p of r.problems) console.log(`  ✗ ${p}`);
  }
  process.exitCode = results.some((r) => r.problems.length) ? 1 : 0;
}
