// The packages in a browser bundle: esbuild (platform browser, format esm, nothing external)
// bundles each package's built entry, then all of them together, and must find no Node built-in
// and no unresolved import; the Node-only packages (NODE_ONLY, with their reason) are left out,
// after checking that they do import Node built-ins. Executing a bundle in a browser is the app's
// browser test.
import { beforeAll, describe, expect, it } from 'vitest';
import { browserPackages, bundleForBrowser, NODE_ONLY } from '../../tools/pack/browser.mjs';
import { ensureBuilt } from '../../tools/pack/workspace.mjs';

interface BundleReport {
  ok: boolean;
  errors: string[];
  warnings: string[];
  nodeImports: string[];
  inputs: string[];
  bytes: number;
}

const names: string[] = browserPackages();
const nodeOnly: [string, string][] = [...NODE_ONLY];

beforeAll(() => ensureBuilt());

describe('browser bundle (esbuild, platform browser)', () => {
  for (const name of names) {
    it(`${name} bundles with no Node built-in or unresolved import`, async () => {
      const r: BundleReport = await bundleForBrowser({ packages: [name], build: false });
      expect(r.nodeImports).toEqual([]);
      expect(r.errors).toEqual([]);
      // The bundle holds the package's built code, not its TypeScript sources.
      const own = `packages/${name.split('/')[1]}/dist/index.js`;
      expect(r.inputs).toContain(own);
      expect(r.inputs.filter((f) => f.endsWith('.ts'))).toEqual([]);
    });
  }

  for (const [name, why] of nodeOnly) {
    it(`${name} is left out as Node-only (${why}), and indeed imports Node built-ins`, async () => {
      const r: BundleReport = await bundleForBrowser({ packages: [name], build: false });
      expect(r.ok).toBe(false);
      expect(r.nodeImports.length).toBeGreaterThan(0);
    });
  }

  it('all packages together bundle into one ESM file with one rxjs', async () => {
    const r: BundleReport = await bundleForBrowser({ build: false });
    expect(r.nodeImports).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
    const rxjsRoots = new Set(
      r.inputs.filter((f) => f.includes('node_modules/rxjs/')).map((f) => f.slice(0, f.indexOf('node_modules/rxjs/'))),
    );
    expect([...rxjsRoots]).toEqual(['']);
    expect(r.bytes).toBeGreaterThan(0);
  });
});
