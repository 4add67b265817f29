// nx release as configured in nx.json, for real but in a throwaway clone of HEAD: after a
// feat(kernels) and a fix(clipping) commit it must give independent versions, rewrite the
// dependents' ranges, write a changelog per package and tag {projectName}@{version}.
// Harness: tools/pack/release.mjs. The repo itself is only read.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pinnedWorkspaceDependencies, releaseInClone } from '../../tools/pack/release.mjs';
import { npmRegistryReachable, publishablePackages } from '../../tools/pack/workspace.mjs';

interface Pkg {
  name: string;
  version: string;
  manifest: { dependencies?: Record<string, string> };
}

const hasGit = spawnSync('git', ['--version']).status === 0;
const online: boolean = await npmRegistryReachable();
const pkgs: Pkg[] = publishablePackages();

const bump = (v: string, kind: 'minor' | 'patch') => {
  const [major, minor, patch] = v.split('.').map(Number) as [number, number, number];
  return kind === 'minor' ? `${major}.${minor + 1}.0` : `${major}.${minor}.${patch + 1}`;
};

describe('nx release', () => {
  it('the app and the bench depend on release packages with "*", so a release keeps them linked', () => {
    // A pinned "0.1.0" stops matching the workspace copy after a bump, and the release's
    // `npm install --package-lock-only` then fails looking for it on the registry.
    expect(pinnedWorkspaceDependencies()).toEqual([]);
  });

  it('versions packages independently from conventional commits, updates dependents, writes changelogs and tags', async (ctx) => {
    if (!hasGit) ctx.skip('git is not installed: the release check commits and tags in a clone');
    if (!online)
      ctx.skip(
        'registry.npmjs.org is unreachable: the release refreshes package-lock.json with npm (CI has the network)',
      );
    const r = await releaseInClone();

    const expected: Record<string, string> = {};
    for (const p of pkgs) expected[p.name] = bump(p.version, p.name === '@rxrnn/kernels' ? 'minor' : 'patch');
    expect(r.versions).toEqual(expected);
    expect(r.tags).toEqual(pkgs.map((p) => `${p.name}@${expected[p.name]}`).sort());

    // Every sibling dependency now names the sibling's new version.
    for (const p of pkgs) {
      const deps = Object.keys(p.manifest.dependencies ?? {}).filter((d) => d.startsWith('@rxrnn/'));
      expect(r.dependencies[p.name], p.name).toEqual(Object.fromEntries(deps.map((d) => [d, expected[d]])));
    }

    expect(r.changelogs['@rxrnn/kernels']).toMatch(
      new RegExp(
        `^## ${expected['@rxrnn/kernels']!.replace(/\./g, '\\.')} [\\s\\S]*Features[\\s\\S]*\\*\\*kernels:\\*\\* a feature for the release check`,
      ),
    );
    expect(r.changelogs['@rxrnn/clipping']).toMatch(/Fixes[\s\S]*\*\*clipping:\*\* a fix for the release check/);
    expect(r.changelogs['@rxrnn/cells']).toMatch(/Updated @rxrnn\/kernels to/);

    // Only the release projects (and the lockfile) change: not the app, not the bench.
    for (const f of r.changedFiles)
      expect(f).toMatch(/^(packages\/[a-z]+\/(package\.json|CHANGELOG\.md)|package-lock\.json)$/);
    expect(r.subject).toBe('chore(release): publish');
  });
});
