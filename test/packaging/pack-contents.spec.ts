// What `npm pack` would publish for each package: the files that run and nothing else, entry
// points and imports that resolve inside the tarball, dependencies declared, no dangling source
// maps. Builds the packages first (once; tools/pack/workspace.mjs serializes concurrent builds).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPackContents, inspectPackage } from '../../tools/pack/contents.mjs';
import { publishablePackages } from '../../tools/pack/workspace.mjs';

interface Result {
  name: string;
  files: string[];
  problems: string[];
}
interface Pkg {
  name: string;
  version: string;
  dir: string;
  manifest: Record<string, any>;
}

const pkgs: Pkg[] = publishablePackages();
let results: Result[] = [];

beforeAll(async () => {
  results = await checkPackContents();
});

describe('npm pack contents', () => {
  it('covers the five packages', () => {
    expect(pkgs.map((p) => p.name).sort()).toEqual([
      '@rxrnn/bidirectional',
      '@rxrnn/cells',
      '@rxrnn/clipping',
      '@rxrnn/kernels',
      '@rxrnn/trainer',
    ]);
    expect(results.map((r) => r.name).sort()).toEqual(pkgs.map((p) => p.name).sort());
  });

  for (const pkg of pkgs) {
    it(`${pkg.name} ships its build, README, LICENSE and package.json (kernels: its prebuilt addon), and nothing else`, () => {
      const r = results.find((x) => x.name === pkg.name)!;
      expect(r.problems).toEqual([]);
      for (const f of ['dist/index.js', 'dist/index.d.ts', 'README.md', 'LICENSE', 'package.json'])
        expect(r.files).toContain(f);
      // The kernels also carry the native addon prebuilt for linux-x64 (tools/build-native.mjs).
      const extra = pkg.name === '@rxrnn/kernels' ? ['prebuilds/linux-x64/rxrnn-kernels.node'] : [];
      for (const f of extra) expect(r.files).toContain(f);
      for (const f of r.files) {
        if (!extra.includes(f)) expect(f).toMatch(/^(dist\/.+\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/);
      }
    });

    it(`${pkg.name} declares what consumers need to install it`, () => {
      const m = pkg.manifest;
      expect(m.license).toBe('MIT');
      expect(readFileSync(join(pkg.dir, 'LICENSE'), 'utf8')).toMatch(
        /MIT License[\s\S]*Copyright \(c\) 2026 rxrnn contributors/,
      );
      expect(m.publishConfig?.access).toBe('public');
      expect(m.private).toBeUndefined();
      expect(m.type).toBe('module');
      // One rxjs for the whole app: a peer, never a dependency (kernels has no operators).
      expect(m.dependencies?.rxjs).toBeUndefined();
      if (pkg.name !== '@rxrnn/kernels') expect(m.peerDependencies?.rxjs).toMatch(/^\^7\.8/);
      // Sibling dependencies point at the siblings' current versions (nx release keeps them so).
      for (const [dep, range] of Object.entries<string>(m.dependencies ?? {})) {
        const sibling = pkgs.find((p) => p.name === dep);
        if (sibling) expect(range, `${pkg.name} → ${dep}`).toBe(sibling.version);
      }
      // require() and import both land on the ESM build (Node >= 20.19 has require(esm)).
      const root = m.exports['.'];
      expect(Object.keys(root).filter((k) => k !== '@rxrnn/source')).toEqual(['types', 'import', 'default']);
      expect(root.default).toBe(root.import);
    });
  }
});

describe('the content checker itself', () => {
  // A fake package on disk with one of each mistake the checker must catch.
  it('flags missing, forbidden and dangling files, undeclared imports and source maps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxrnn-contents-'));
    try {
      const write = (f: string, text: string) => {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        writeFileSync(join(dir, f), text);
      };
      write(
        'dist/index.js',
        "import { a } from './a.js';\nimport pad from 'left-pad';\nimport { of } from 'rxjs';\nexport const x = [a, pad, of];\n//# sourceMappingURL=index.js.map\n",
      );
      write('dist/index.spec.js', "import { it } from 'vitest';\n");
      write('dist/helpers.js', '// Test-only: fixtures for the specs.\nexport {};\n');
      const manifest = {
        name: '@rxrnn/fake',
        version: '0.1.0',
        peerDependencies: { rxjs: '^7.8.0' },
        exports: { '.': { '@rxrnn/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } },
      };
      const problems: string[] = inspectPackage(
        { name: manifest.name, dir, manifest },
        {
          files: [
            'package.json',
            'LICENSE',
            'src/index.ts',
            'dist/index.js',
            'dist/index.spec.js',
            'dist/helpers.js',
            'dist/tsconfig.lib.tsbuildinfo',
            'dist/index.js.map',
          ].map((path) => ({ path })),
        },
      );
      expect(problems.sort()).toEqual(
        [
          'dist/index.js has a sourceMappingURL to a map that is not shipped',
          'dist/index.js imports ./a.js, which is not in the tarball',
          'dist/index.js imports left-pad, which is not a dependency or peerDependency',
          'dist/index.spec.js imports vitest, which is not a dependency or peerDependency',
          'exports...types → ./dist/index.d.ts, which is not in the tarball',
          'missing README.md',
          'missing dist/index.d.ts',
          'ships dist/helpers.js: its header says it is test-only',
          'ships dist/index.js.map: a source map (sources are not shipped)',
          'ships dist/index.spec.js: a spec/test file',
          'ships dist/tsconfig.lib.tsbuildinfo: a tsbuildinfo',
          'ships src/index.ts: TypeScript source (src/ is not shipped)',
          'ships src/index.ts: a TypeScript source file',
        ].sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
