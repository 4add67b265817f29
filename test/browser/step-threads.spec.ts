// setStepThreads in a real browser: Debian's Chromium (playwright-core) loads a page that bundles
// @rxrnn/kernels (esbuild, platform browser) from a loopback server. Cross-origin isolated, the
// helper runs as a Blob-URL worker on the shared WASM memory and its shared steps must equal the
// one-thread steps bit for bit; without isolation setStepThreads(2) must refuse with a clear
// error. Skipped with a message when /usr/bin/chromium is absent, except under CI.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const mustRun = haveChromium || Boolean(process.env.CI);
if (!mustRun)
  console.warn(`browser step-threads test skipped: ${CHROMIUM} not found (install it: apt-get install chromium)`);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// The page: an LSTM-256 stepped 12 times on one thread, then with the helper until it has taken
// part; the result goes to window.result.
const PAGE_SCRIPT = `
import * as K from '@rxrnn/kernels';
const fill = (a, seed, scale) => { let s = seed; for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = (s / 4294967296 - 0.5) * scale; } return a; };
async function run() {
  await K.ready();
  const out = { isolated: self.crossOriginIsolated, backend: K.getBackend() };
  if (!out.isolated) {
    try { await K.setStepThreads(2); out.started = true; } catch (e) { out.refused = String(e.message); }
    return out;
  }
  const H = 256, nX = 64;
  const Wih = fill(K.allocF32(4 * H * nX), 1, 0.2), Whh = fill(K.allocF32(4 * H * H), 2, 0.2), b = fill(K.allocF32(4 * H), 3, 0.2), x = fill(K.allocF32(nX), 4, 2);
  const h = K.allocF32(H), c = K.allocF32(H), act = K.allocF32(4 * H), pre = K.allocF32(4 * H);
  const trajectory = () => {
    h.fill(0); c.fill(0);
    const rows = [];
    for (let t = 0; t < 12; t++) { K.lstmStep(h, c, act, pre, Wih, x, Whh, b, nX, H); rows.push([...h, ...c]); }
    return JSON.stringify(rows);
  };
  const one = trajectory();
  await K.setStepThreads(2, { minWeights: 0, spinMicros: 100000, adaptive: false });
  out.equal = true;
  const until = performance.now() + 10000;
  do { if (trajectory() !== one) out.equal = false; } while (K.getStepThreads().helperChunks === 0 && performance.now() < until);
  out.info = K.getStepThreads();
  await K.setStepThreads(1);
  out.after = K.getStepThreads().threads;
  out.stillEqual = trajectory() === one;
  return out;
}
run().then((r) => { self.result = r; }, (e) => { self.result = { error: String(e && e.stack || e) }; });
`;

describe.skipIf(!mustRun)('setStepThreads in Chromium', () => {
  let server: Server;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!haveChromium)
      throw new Error(`CI is set but ${CHROMIUM} is missing: CI must install Debian's chromium package`);
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const built = await esbuild.build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: ROOT, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['@rxrnn/source'],
      write: false,
      logLevel: 'silent',
    });
    const js = built.outputFiles[0]!.text;
    const html =
      '<!doctype html><meta charset="utf-8"><title>step threads</title><script type="module" src="page.js"></script>';
    server = createServer((req, res) => {
      // /isolated/ is served cross-origin isolated (SharedArrayBuffer available), /plain/ is not.
      const isolated = req.url?.startsWith('/isolated/');
      const headers: Record<string, string> = isolated
        ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
        : {};
      if (req.url?.endsWith('/page.js')) res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(js);
      else if (req.url?.endsWith('/')) res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(html);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  async function result(path: string): Promise<Record<string, unknown>> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}${path}`);
    await page.waitForFunction(() => (self as unknown as { result?: unknown }).result !== undefined, null, {
      timeout: 0,
    });
    const r = (await page.evaluate(() => (self as unknown as { result: unknown }).result)) as Record<string, unknown>;
    await page.close();
    expect(errors).toEqual([]);
    return r;
  }

  it('cross-origin isolated: a Blob-URL helper shares steps, bitwise equal to one thread', async () => {
    const r = await result('/isolated/');
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ isolated: true, backend: 'wasm', equal: true, after: 1, stillEqual: true });
    const info = r.info as { threads: number; helperChunks: number; chunks: number };
    expect(info.threads).toBe(2);
    expect(info.helperChunks).toBeGreaterThan(0);
  });

  it('not isolated: setStepThreads(2) refuses and says why', async () => {
    const r = await result('/plain/');
    expect(r.error).toBeUndefined();
    expect(r.isolated).toBe(false);
    expect(r.started).toBeUndefined();
    expect(String(r.refused)).toMatch(/needs the wasm backend on a shared WebAssembly.Memory/);
  });
});
