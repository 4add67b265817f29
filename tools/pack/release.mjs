#!/usr/bin/env node
// A real `nx release` (version, changelogs, commit, tags; no publish) in a throwaway clone of
// HEAD under os.tmpdir(), after two conventional commits: feat(kernels) and fix(clipping).
// Reports what the release did: versions, sibling ranges, tags, changelogs, files touched.
// The repo itself is only read (git clone). `node tools/pack/release.mjs` runs it by hand.
import { appendFileSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withTempDir } from './consumer.mjs';
import { cleanEnv, nx, publishablePackages, ROOT, run } from './workspace.mjs';

const IDENTITY = { GIT_AUTHOR_NAME: 'rxrnn release check', GIT_AUTHOR_EMAIL: 'release-check@rxrnn.invalid' };
const gitEnv = () =>
  cleanEnv({
    ...IDENTITY,
    GIT_COMMITTER_NAME: IDENTITY.GIT_AUTHOR_NAME,
    GIT_COMMITTER_EMAIL: IDENTITY.GIT_AUTHOR_EMAIL,
  });

/**
 * Workspaces outside the release (the app, the bench) that pin a release package to a version:
 * once the release bumps that package, npm stops linking the workspace copy and looks for the old
 * version on the registry. They should use "*". Returns ["<workspace>: <dep>@<range>"].
 */
export function pinnedWorkspaceDependencies() {
  const released = new Set(publishablePackages().map((p) => p.name));
  const found = [];
  for (const base of ['apps', 'tools']) {
    const dir = join(ROOT, base);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const file = join(dir, name, 'package.json');
      if (!existsSync(file)) continue;
      const m = JSON.parse(readFileSync(file, 'utf8'));
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const [dep, range] of Object.entries(m[field] ?? {})) {
          if (released.has(dep) && range !== '*')
            found.push(`${base}/${name} (${m.name}): ${field}.${dep} = "${range}"`);
        }
      }
    }
  }
  return found;
}

/**
 * Resolves with {tags, versions, dependencies, changelogs, changedFiles, subject, log}.
 * `unpin` first rewrites the pins pinnedWorkspaceDependencies() finds to "*" in the clone.
 */
export async function releaseInClone({ unpin = true } = {}) {
  return withTempDir('rxrnn-release-', async (dir) => {
    const git = (...args) => run('git', args, { cwd: dir, env: gitEnv() });
    await run('git', ['clone', '--quiet', '--no-hardlinks', ROOT, dir], { env: gitEnv() });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');

    // The release's pre-version build is not under test here (the pack tests build) and would
    // need a full build in the clone: drop it, as a commit of its own.
    const nxJson = JSON.parse(readFileSync(join(dir, 'nx.json'), 'utf8'));
    delete nxJson.release?.version?.preVersionCommand;
    writeFileSync(join(dir, 'nx.json'), `${JSON.stringify(nxJson, null, 2)}\n`);
    await git('commit', '--quiet', '--all', '--message', 'test: release check without the pre-version build');

    // Pinned sibling versions in the app or the bench break the release's lockfile update; that
    // has its own check (pinnedWorkspaceDependencies), so here they are unpinned first.
    if (unpin) {
      const released = new Set(publishablePackages().map((p) => p.name));
      for (const rel of pinnedWorkspaceDependencies().map((p) => p.split(' ')[0])) {
        const file = join(dir, rel, 'package.json');
        const m = JSON.parse(readFileSync(file, 'utf8'));
        for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
          for (const dep of Object.keys(m[field] ?? {})) if (released.has(dep)) m[field][dep] = '*';
        }
        writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
      }
      await git(
        'commit',
        '--quiet',
        '--all',
        '--allow-empty',
        '--message',
        'chore: workspaces depend on release packages with "*"',
      );
    }

    // The versions in the manifests count as released here: without these tags nx would read
    // every commit of the branch's history (a feat(cells) anywhere would bump cells a minor),
    // and the check is about the two commits below only.
    for (const p of publishablePackages()) await git('tag', `${p.name}@${p.version}`);

    appendFileSync(join(dir, 'packages/kernels/src/index.ts'), '// release check\n');
    await git('commit', '--quiet', '--all', '--message', 'feat(kernels): a feature for the release check');
    appendFileSync(join(dir, 'packages/clipping/src/index.ts'), '// release check\n');
    await git('commit', '--quiet', '--all', '--message', 'fix(clipping): a fix for the release check');
    const before = (await git('rev-parse', 'HEAD')).stdout.trim();

    const { stdout, stderr } = await nx(['release', '--skip-publish', '--verbose'], {
      cwd: dir,
      env: gitEnv(),
      timeoutMs: 180_000,
    });

    const tags = (await git('tag', '--points-at', 'HEAD')).stdout.trim().split('\n').filter(Boolean).sort();
    const changedFiles = (await git('diff', '--name-only', before, 'HEAD')).stdout.trim().split('\n').sort();
    const subject = (await git('log', '-1', '--format=%s')).stdout.trim();
    const versions = {};
    const dependencies = {};
    const changelogs = {};
    for (const p of publishablePackages()) {
      const rel = p.dir.slice(ROOT.length + 1);
      const m = JSON.parse(readFileSync(join(dir, rel, 'package.json'), 'utf8'));
      versions[m.name] = m.version;
      dependencies[m.name] = Object.fromEntries(
        Object.entries(m.dependencies ?? {}).filter(([d]) => d.startsWith('@rxrnn/')),
      );
      const log = join(dir, rel, 'CHANGELOG.md');
      changelogs[m.name] = existsSync(log) ? readFileSync(log, 'utf8') : null;
    }
    return { tags, versions, dependencies, changelogs, changedFiles, subject, log: `${stdout}\n${stderr}` };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const pinned = pinnedWorkspaceDependencies();
  for (const p of pinned) console.error(`pinned (breaks the release's lockfile update): ${p}`);
  const { log, ...result } = await releaseInClone();
  console.log(JSON.stringify(result, null, 2));
}
