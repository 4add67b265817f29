// The packages in a browser bundle: esbuild (platform browser, format esm, nothing external)
// bundles each package's built entry, then all of them together, and must find no Node built-in
// and no unresolved import. Executing a bundle in a browser is the app's browser test.
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../../tools/pack/browser.mjs';
import { ensureBuilt, publishablePackages } from '../../tools/pack/workspace.mjs';

interface BundleReport {
  ok: boolean;
  errors: string[];
  warnings: string[];
  nodeImports: string[];
  inputs: string[];
  bytes: number;
}

const names: string[] = publishablePackages().map((p: { name: string }) => p.name);

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
