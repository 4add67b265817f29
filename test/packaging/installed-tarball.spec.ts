// The packages as a user gets them: `npm pack` tarballs installed with rxjs from the npm registry
// into a fresh project outside the repo, then used from ESM, from CommonJS (require) and from a
// strict NodeNext TypeScript project. The harness is tools/pack/installed.mjs.
import { describe, expect, it } from 'vitest';
import { checkInstalledTarballs } from '../../tools/pack/installed.mjs';
import { npmRegistryReachable } from '../../tools/pack/workspace.mjs';

const online: boolean = await npmRegistryReachable();

describe('installed tarballs', () => {
  it('install with rxjs into a fresh project and run from ESM, CommonJS and tsc NodeNext', async (ctx) => {
    if (!online)
      ctx.skip('registry.npmjs.org is unreachable: the consumer project cannot install rxjs (CI has the network)');
    const result = await checkInstalledTarballs();

    expect(result.tarballs.map((t: { name: string }) => t.name).sort()).toEqual([
      '@rxrnn/bidirectional',
      '@rxrnn/cells',
      '@rxrnn/clipping',
      '@rxrnn/kernels',
      '@rxrnn/trainer',
    ]);
    // rxjs is a peer: the consumer's one copy serves every package.
    expect(result.rxjsCopies).toEqual(['node_modules/rxjs']);
    for (const kind of ['esm', 'cjs'] as const) {
      const r = result[kind];
      expect(r.ok, kind).toBe(true);
      // linux-x64 installs run on the prebuilt addon from the tarball (nothing compiled on install).
      if (`${process.platform}-${process.arch}` === 'linux-x64') expect(r.backend, kind).toBe('native');
      expect(r.lstmSteps).toBe(11);
      expect(r.training.lastLoss).toBeLessThan(r.training.firstLoss * 0.6);
      expect([...r.generated]).toHaveLength(48);
      expect(r.bidirectionalWindows).toEqual([4, 4, 3]);
      expect(r.offline).toEqual({ steps: 5, threads: 2, checkpointParams: expect.any(Number) });
    }
    // Both module systems load the same files, so the seeded run is identical.
    expect(result.cjs.generated).toBe(result.esm.generated);
    expect(result.cjs.training).toEqual(result.esm.training);
    // tsc --noEmit prints nothing when the consumer type-checks.
    expect(result.tsc.trim()).toBe('');
  });
});
