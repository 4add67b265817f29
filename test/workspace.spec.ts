import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['kernels', 'cells', 'bidirectional', 'trainer', 'clipping', 'keyed', 'nats'];

describe('workspace packages', () => {
  for (const name of packages) {
    it(`@rxrnn/${name} has a publishable package.json`, () => {
      const pkg = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
      expect(pkg.name).toBe(`@rxrnn/${name}`);
      expect(pkg.sideEffects).toBe(false);
      expect(pkg.engines.node).toBe('>=20.19');
      expect(pkg.exports['.'].types).toBe('./dist/index.d.ts');
      expect(pkg.files).toContain('dist');
      if (name !== 'kernels') expect(pkg.peerDependencies?.rxjs).toMatch(/^\^7\.8/);
    });
  }
});
