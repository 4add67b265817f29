// Builds the web page into dist/web: web/main.ts bundled for the browser with esbuild (the
// @rxrnn/* packages from source, WASM kernels inlined by the kernels package), plus the HTML
// and CSS copied as they are. `serve` calls it on start; `npm run build:web` runs it alone.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const APP_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the built page lives. */
export const WEB_OUT = join(APP_ROOT, 'dist', 'web');

/** Bundles the page into `outDir` (default dist/web) and returns that folder. */
export async function buildWeb(outDir = WEB_OUT): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(APP_ROOT, 'web', 'main.ts')],
    outfile: join(outDir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@rxrnn/source'],
    minify: true,
    sourcemap: true,
    logLevel: 'silent',
    write: false,
  });
  const files = result.outputFiles.map((f) => [f.path, f.contents] as const);
  for (const name of ['index.html', 'style.css'])
    files.push([join(outDir, name), readFileSync(join(APP_ROOT, 'web', name))]);
  // Each file replaces the old one in one rename, so a server already running (another serve on
  // the same checkout) never sends a half-written bundle.
  for (const [path, contents] of files) {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, contents);
    renameSync(tmp, path);
  }
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildWeb();
  console.log(`web page built into ${out}`);
}
