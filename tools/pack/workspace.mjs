// Shared pieces of the packaging checks: the publishable packages, a child-process runner
// with a clean npm environment, a build that runs once however many specs ask for it, `npm pack`,
// and a reachability probe for the npm registry. Owns only the temp folders it is handed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NPM_REGISTRY = 'https://registry.npmjs.org/';
const NX = join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');

/** The release projects: every non-private package under packages/, dependencies first. */
export function publishablePackages() {
  const dir = join(ROOT, 'packages');
  const pkgs = readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'package.json')))
    .map((name) => {
      const manifest = JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8'));
      return { name: manifest.name, version: manifest.version, dir: join(dir, name), manifest };
    })
    .filter((p) => !p.manifest.private);
  // Topological order over the sibling dependencies keeps publish and install logs readable.
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const ordered = [];
  const visit = (p, seen = new Set()) => {
    if (ordered.includes(p) || seen.has(p.name)) return;
    seen.add(p.name);
    for (const dep of Object.keys(p.manifest.dependencies ?? {})) if (byName.has(dep)) visit(byName.get(dep), seen);
    ordered.push(p);
  };
  for (const p of pkgs.sort((a, b) => a.name.localeCompare(b.name))) visit(p);
  return ordered;
}

/**
 * The environment for child npm/nx/node processes: the caller's, minus the npm_* variables an
 * outer `npm test` exports (they would point a nested npm at the repo's config and prefix).
 */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && k !== 'INIT_CWD') env[k] = v;
  }
  return { ...env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false', FORCE_COLOR: '0', ...extra };
}

/**
 * Runs a command to completion and resolves with {code, stdout, stderr}; rejects with both
 * outputs in the message when it exits non-zero (unless `allowFail`) or outlives `timeoutMs`.
 */
export function run(cmd, args, { cwd = ROOT, env = cleanEnv(), timeoutMs = 180_000, allowFail = false, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0 && !allowFail) {
        reject(
          new Error(
            `${cmd} ${args.join(' ')} (in ${cwd}) exited with ${code}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`,
          ),
        );
      } else resolve({ code, stdout, stderr });
    });
    if (input !== undefined) {
      child.stdin.on('error', () => {}); // a child that exits without reading its input
      child.stdin.end(input);
    }
  });
}

const tail = (s, n = 6000) => (s.length > n ? `…${s.slice(-n)}` : s);

/** `npm` as a child process (the npm that runs this Node, or the one on PATH). */
export function npm(args, opts) {
  return run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, opts);
}

/** `nx` from the repo's node_modules. */
export function nx(args, opts) {
  return run(process.execPath, [NX, ...args], opts);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Builds every publishable package (`nx run-many -t build`), once per process and serialized
 * across processes: vitest runs spec files in parallel workers, and two tsc --build runs writing
 * the same dist/ would race. Nx's cache makes the later callers' runs cheap.
 */
let built;
export function ensureBuilt() {
  built ??= withWorkspaceLock(() =>
    nx(['run-many', '-t', 'build', '-p', 'packages/*', '--skip-sync', '--outputStyle=static'], { timeoutMs: 600_000 }),
  );
  return built;
}

/**
 * Times named steps: `timed(name, fn)` awaits fn, records its milliseconds in `timings[name]`
 * (also when it fails) and logs them.
 */
export function stepTimer(log = () => {}) {
  const timings = {};
  const timed = async (name, fn) => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
      log(`${name}: ${timings[name]} ms`);
    }
  };
  return { timings, timed };
}

/**
 * Runs `fn` while holding the workspace lock (a folder under node_modules/.cache), so that no
 * build rewrites dist/ while another process packs, publishes or bundles it.
 */
export async function withWorkspaceLock(fn) {
  const dir = join(ROOT, 'node_modules', '.cache', 'rxrnn-pack');
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'dist.lock');
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock whose owner died (or that is older than the longest build) is taken over.
      if (lockIsStale(lock) || waited > 600_000) rmSync(lock, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockIsStale(lock) {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return Date.now() - statSync(lock).mtimeMs > 600_000;
  } catch (err) {
    // ENOENT: the owner has made the folder but not yet written its pid — give it a moment.
    if (err.code === 'ENOENT') return Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 10_000;
    return err.code === 'ESRCH';
  }
}

/**
 * `npm pack` of every publishable package in one npm run. With `destination` the tarballs are
 * written there; without it this is a dry run. Resolves with npm's JSON report per package
 * ({name, version, filename, files: [{path, size}], ...}), each with `tarball` set when written.
 */
export async function packAll(destination) {
  const pkgs = publishablePackages();
  const args = ['pack', '--json', '--ignore-scripts'];
  for (const p of pkgs) args.push('--workspace', p.dir);
  if (destination) args.push('--pack-destination', destination);
  else args.push('--dry-run');
  const { stdout } = await withWorkspaceLock(() => npm(args, { cwd: ROOT }));
  const reports = JSON.parse(stdout.slice(stdout.indexOf('[')));
  for (const r of reports) if (destination) r.tarball = join(destination, r.filename);
  return reports;
}

/** Resolves true when the npm registry answers within `timeoutMs` (offline sandboxes skip). */
export async function npmRegistryReachable(timeoutMs = 8000) {
  try {
    const res = await fetch(`${NPM_REGISTRY}rxjs`, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    return res.ok;
  } catch {
    return false;
  }
}
