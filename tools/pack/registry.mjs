#!/usr/bin/env node
// A real registry round trip: a throwaway verdaccio on 127.0.0.1:<free port> (storage in a temp
// folder, @rxrnn/* publishable by anyone, everything else proxied to registry.npmjs.org), every
// package published to it with `nx release publish`, then installed from it into a fresh project
// where the ESM consumer runs. Always stops verdaccio and removes its folders.
// `node tools/pack/registry.mjs` runs it by hand and prints the timings.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installConsumer, npmEnv, runNodeConsumer, withTempDir, writeConsumers } from './consumer.mjs';
import {
  ensureBuilt,
  NPM_REGISTRY,
  nx,
  publishablePackages,
  ROOT,
  stepTimer,
  withWorkspaceLock,
} from './workspace.mjs';

const VERDACCIO = join(ROOT, 'node_modules', 'verdaccio', 'bin', 'verdaccio');

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The verdaccio config: YAML, written by hand (paths are JSON-quoted, which YAML accepts). */
function verdaccioConfig(dir, port) {
  const q = JSON.stringify;
  return `# Throwaway registry for the publish round trip (tools/pack/registry.mjs).
storage: ${q(join(dir, 'storage'))}
listen: ${q(`127.0.0.1:${port}`)}
auth:
  htpasswd:
    file: ${q(join(dir, 'htpasswd'))}
    max_users: -1
uplinks:
  npmjs:
    url: ${q(NPM_REGISTRY)}
    timeout: 60s
    max_fails: 5
packages:
  '@rxrnn/*':
    access: $all
    publish: $all
    unpublish: $all
  '**':
    access: $all
    proxy: npmjs
web:
  enable: false
server:
  keepAliveTimeout: 0
log: { type: stdout, format: pretty, level: warn }
`;
}

/**
 * Starts verdaccio and resolves once it answers /-/ping with {url, port, dir, npmrc, stop()}.
 * `npmrc` is a user config holding a fake token for it (npm refuses to publish without one).
 * stop() kills it, waits for its exit and removes its folder; safe to call twice.
 */
export async function startRegistry({ readyTimeoutMs = 60_000 } = {}) {
  const dir = mkdtempSync(join(realpathSync(tmpdir()), 'rxrnn-verdaccio-'));
  let child = null;
  let exited = null;
  let output = '';
  const stop = async () => {
    if (child && exited === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((r) => (exited !== null ? r() : child.once('exit', r)));
      clearTimeout(killer);
    }
    process.off('exit', killNow);
    rmSync(dir, { recursive: true, force: true });
  };
  // If this process exits without reaching stop(), take verdaccio and its folder along.
  const killNow = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', killNow);
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const config = join(dir, 'config.yaml');
    writeFileSync(config, verdaccioConfig(dir, port));
    const npmrc = join(dir, 'npmrc');
    writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=fake\n`);

    child = spawn(process.execPath, [VERDACCIO, '--config', config, '--listen', `127.0.0.1:${port}`], {
      cwd: dir,
      env: npmEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code, signal) => (exited = code ?? signal));

    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exited !== null) throw new Error(`verdaccio exited (${exited}) before it was ready:\n${output}`);
      try {
        const res = await fetch(`${url}/-/ping`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline)
        throw new Error(`verdaccio did not answer on ${url} within ${readyTimeoutMs} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { url, port, dir, npmrc, stop, log: () => output };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Publishes every release project to `registry.url` with `nx release publish` (the versions on
 * disk, no versioning step, so no commits or tags) and resolves with nx's output.
 */
export async function publishAll(registry) {
  const { stdout, stderr } = await withWorkspaceLock(() =>
    nx(
      [
        'release',
        'publish',
        '--registry',
        registry.url,
        '--tag',
        'latest',
        '--first-release',
        '--skip-sync',
        '--outputStyle=static',
      ],
      { env: npmEnv({ userconfig: registry.npmrc }), timeoutMs: 180_000 },
    ),
  );
  return `${stdout}\n${stderr}`;
}

/** The whole round trip; resolves with {published, resolved (package → tarball URL), esm, timings, publishLog}. */
export async function registryRoundTrip({ log = () => {} } = {}) {
  const { timings, timed } = stepTimer(log);
  await timed('build', ensureBuilt);
  const registry = await timed('start', () => startRegistry());
  try {
    const publishLog = await timed('publish', () => publishAll(registry));
    // What the registry now serves, straight from its API.
    /** @type {Record<string, unknown>} */
    const published = {};
    for (const p of publishablePackages()) {
      const res = await fetch(`${registry.url}/${p.name.replace('/', '%2f')}`);
      const doc = res.ok ? await res.json() : null;
      published[p.name] = {
        version: p.version,
        latest: doc?.['dist-tags']?.latest ?? null,
        versions: Object.keys(doc?.versions ?? {}),
      };
    }
    /** @type {Record<string, string>} */
    const resolved = {};
    const esm = await withTempDir('rxrnn-registry-consumer-', async (dir) => {
      const dependencies = Object.fromEntries(publishablePackages().map((p) => [p.name, p.version]));
      await timed('install', () =>
        installConsumer(dir, { dependencies, registry: `${registry.url}/`, userconfig: registry.npmrc }),
      );
      // Where npm took each package from, as its lockfile records it.
      const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
      for (const [path, entry] of Object.entries(lock.packages ?? {})) {
        const m = /^node_modules\/((?:@rxrnn\/[^/]+)|rxjs)$/.exec(path);
        if (m) resolved[m[1]] = entry.resolved;
      }
      writeConsumers(dir);
      return timed('esm', () => runNodeConsumer(dir, 'esm.mjs'));
    });
    return { published, resolved, esm, timings, publishLog };
  } finally {
    await timed('stop', () => registry.stop());
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { publishLog, ...result } = await registryRoundTrip({ log: (m) => console.error(m) });
  if (process.argv.includes('--verbose')) console.error(publishLog);
  console.log(JSON.stringify(result, null, 2));
}
