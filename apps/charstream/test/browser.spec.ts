// The web page in a real browser: Debian's Chromium driven by playwright-core against
// `charstream serve` (a child process on an ephemeral loopback port). Skipped with a message when
// /usr/bin/chromium is absent, except under CI, where a missing browser is a failure.

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROOT, type CliResult, finished, startCli, stopChildren, waitFor } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const mustRun = haveChromium || Boolean(process.env.CI);
if (!mustRun) console.warn(`browser test skipped: ${CHROMIUM} not found (install it: apt-get install chromium)`);

describe.skipIf(!mustRun)('the web page in Chromium', () => {
  let server: ChildProcess;
  let serverDone: Promise<CliResult>;
  let url: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!haveChromium)
      throw new Error(`CI is set but ${CHROMIUM} is missing: CI must install Debian's chromium package`);
    // Clipping at θ = 1 fires in a share of the early updates, so the loss chart has events to mark.
    server = startCli(['serve', '--port', '0', '--hidden', '32', '--max-generations', '2', '--clip', '1']);
    serverDone = finished(server);
    const banner = await waitFor(server.stdout!, /serving (http:\/\/127\.0\.0\.1:\d+\/)/);
    url = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(banner)![1]!;
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
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGINT');
      const r = await serverDone;
      expect(r.code).toBe(0);
    }
    stopChildren();
  });

  const count = () => page.$eval('#output', (el) => Number((el as HTMLElement).dataset.count));
  const textLength = () => page.$eval('#output', (el) => (el.textContent ?? '').length);

  it('loads cross-origin isolated, with the model and its speed shown', async () => {
    await page.waitForSelector('body[data-ready="isolated"]', { timeout: 0 });
    expect(await page.textContent('#model')).toMatch(/1-layer LSTM, hidden 32/);
    await page.waitForFunction(() => /µs\/char/.test(document.getElementById('speed')!.textContent ?? ''), null, {
      timeout: 0,
    });
    expect(await page.textContent('#error')).toBe('');
  });

  it('generates text that keeps growing', async () => {
    await page.waitForFunction(() => Number(document.getElementById('output')!.dataset.count) > 20, null, {
      timeout: 0,
    });
    const first = await count();
    await page.waitForFunction((n) => Number(document.getElementById('output')!.dataset.count) > n + 50, first, {
      timeout: 0,
    });
    expect(await count()).toBeGreaterThan(first + 50);
  });

  it('applies a new temperature: low is narrow, high spreads over the vocabulary', async () => {
    // An untrained model is near uniform at any temperature: wait until the server's model has
    // learned something (loss under 1.2 nats/char) and the page holds those weights.
    const trainedAt = await page.waitForFunction(
      () => {
        const m = /step (\d+) .* loss (\d+\.\d+) nats\/char/.exec(
          document.getElementById('training')!.textContent ?? '',
        );
        return m && Number(m[2]) < 1.2 ? Number(m[1]) : false;
      },
      null,
      { timeout: 0 },
    );
    const step = (await trainedAt.jsonValue()) as number;
    await page.waitForFunction(
      (s) => Number(/step (\d+)/.exec(document.getElementById('weights')!.textContent ?? '')?.[1]) >= s,
      step,
      { timeout: 0 },
    );
    await page.selectOption('#pace', '0');
    const sampleAt = async (temperature: string) => {
      await page.fill('#temperature', temperature);
      await page.waitForSelector(`#active[data-temperature="${temperature}"]`, { timeout: 0 });
      const from = await textLength();
      await page.waitForFunction((n) => (document.getElementById('output')!.textContent ?? '').length > n + 600, from, {
        timeout: 0,
      });
      const text = await page.$eval('#output', (el, n) => (el.textContent ?? '').slice(n, n + 600), from);
      return new Set(text).size;
    };
    const low = await sampleAt('0.1');
    const high = await sampleAt('5');
    expect(high).toBeGreaterThan(low + 5);
  });

  it('charts the server training loss above the fold, with the trend in words', async () => {
    await page.waitForFunction(() => Number(document.getElementById('chart')!.dataset.points) >= 3, null, {
      timeout: 0,
    });
    expect(await page.textContent('#training')).toMatch(/step \d+ .* nats\/char .* bits\/char/);
    // At 1280×900 the whole chart is visible without scrolling.
    const box = await page.$eval('#chart', (el) => el.getBoundingClientRect().toJSON() as DOMRect);
    expect(box.top).toBeGreaterThanOrEqual(0);
    expect(box.bottom).toBeLessThanOrEqual(900);
    await page.waitForFunction(() => document.getElementById('trend')!.dataset.change !== undefined, null, {
      timeout: 0,
    });
    expect(await page.textContent('#trend')).toMatch(
      /^loss \d+\.\d\d nats\/char \(\d+\.\d\d bits\/char\), (down|up|level) \d+% from \d+\.\d\d at the start/,
    );
  });

  it('marks the clipped updates on the loss chart time axis', async () => {
    await page.waitForFunction(() => Number(document.getElementById('chart')!.dataset.clips) > 0, null, { timeout: 0 });
    const status = await page.evaluate(() => fetch('/api/status').then((r) => r.json()));
    expect(status.training.clipThreshold).toBe(1);
  });

  it('draws the gradient flow beside the loss chart, and refreshes it with the weights', async () => {
    await page.waitForFunction(() => Number(document.getElementById('flow')!.dataset.points) > 0, null, { timeout: 0 });
    // LSTM: ‖∂L/∂h‖ and ‖∂L/∂c‖ over k = 0 … 99 (a point is left out only where a norm is 0).
    expect(await page.$eval('#flow', (el) => Number((el as HTMLElement).dataset.points))).toBeGreaterThan(150);
    expect(await page.textContent('#flow-summary')).toMatch(
      /^step \d+: h: (below 1e-3 at k = \d+|above 1e-3 for all 100 steps); c: (below 1e-3 at k = \d+|above 1e-3 for all 100 steps)$/,
    );
    const first = await page.$eval('#flow', (el) => Number((el as HTMLElement).dataset.step));
    expect(first).toBeGreaterThan(0);
    await page.waitForFunction((s) => Number(document.getElementById('flow')!.dataset.step) > s, first, { timeout: 0 });
    expect(await page.textContent('#flow-summary')).not.toContain(`step ${first}:`);
    // In the right column, under the loss chart, which stays above the fold.
    const chart = await page.$eval('#chart', (el) => el.getBoundingClientRect().toJSON() as DOMRect);
    const flow = await page.$eval('#flow', (el) => el.getBoundingClientRect().toJSON() as DOMRect);
    expect(flow.left).toBeCloseTo(chart.left, 0);
    expect(flow.top).toBeGreaterThan(chart.bottom);
    expect(chart.bottom).toBeLessThanOrEqual(900);
  });

  it('saves a screenshot', async () => {
    const dir = join(APP_ROOT, 'test-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'charstream-page.png');
    await page.screenshot({ path: file });
    expect(existsSync(file)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
