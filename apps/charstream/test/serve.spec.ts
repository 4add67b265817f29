// `charstream serve` as a child process with --checkpoint: the worker trains and publishes, the
// checkpoint downloads, SIGINT saves and exits 0, a second start resumes from the file, and a
// corrupt file is a one-line error with exit code 2.
import { writeFileSync } from 'node:fs';
import { type ClientRequest, get as httpGet, request } from 'node:http';
import { join } from 'node:path';
import { decodeCheckpoint, loadCheckpoint } from '@rxrnn/trainer/node';
import { afterAll, describe, expect, it } from 'vitest';
import { finished, runCli, startCli, stopChildren, tempDir, waitFor, writeCorpus } from './helpers.js';

const tmp = tempDir();
afterAll(() => {
  stopChildren();
  tmp.cleanup();
});

function fetchBytes(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

async function serve(args: string[]) {
  const child = startCli(['serve', '--port', '0', '--hidden', '8', '--seq', '16', ...args]);
  const done = finished(child);
  const banner = await waitFor(child.stdout!, /serving (http:\/\/127\.0\.0\.1:\d+\/)[^\n]*\n/);
  return { child, done, banner, url: /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(banner)![1]! };
}

async function statusOf(url: string): Promise<any> {
  return JSON.parse((await fetchBytes(`${url}api/status`)).body.toString());
}

describe('charstream serve', () => {
  it('trains in a worker, saves on SIGINT, and resumes from its checkpoint', async () => {
    const ckpt = join(tmp.dir, 'serve.ckpt');
    const input = writeCorpus(tmp.dir, 8000);
    const first = await serve(['--input', input, '--checkpoint', ckpt]);
    expect(first.banner).toContain('training on corpus.txt');
    let status = await statusOf(first.url);
    for (let i = 0; i < 200 && status.training.step < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await statusOf(first.url);
    }
    expect(status.training.step).toBeGreaterThanOrEqual(20);
    expect(status.model).toMatchObject({ cell: 'lstm', hidden: 8 });
    const download = await fetchBytes(`${first.url}api/checkpoint`);
    expect(download.status).toBe(200);
    expect(decodeCheckpoint(new Uint8Array(download.body)).counters.step).toBeGreaterThan(0);

    first.child.kill('SIGINT');
    const r = await first.done;
    expect(r.code).toBe(0);
    const saved = loadCheckpoint(ckpt);
    expect(saved.counters.step).toBeGreaterThanOrEqual(status.training.step);

    const second = await serve(['--input', input, '--checkpoint', ckpt]);
    expect(second.banner).toContain(`resumed from ${ckpt}`);
    expect((await statusOf(second.url)).training.step).toBeGreaterThanOrEqual(saved.counters.step);
    second.child.kill('SIGINT');
    expect((await second.done).code).toBe(0);
  });

  it('streams training events to 110 clients at once with a clean stderr', async () => {
    const input = writeCorpus(tmp.dir, 8000);
    const server = await serve(['--input', input]);
    const port = Number(/:(\d+)\//.exec(server.url)![1]);
    // Each client resolves once an `update` event (a live training point) has reached it.
    const requests: ClientRequest[] = [];
    const updates = Array.from(
      { length: 110 },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
            let seen = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              seen += d;
              if (seen.includes('event: update\n')) resolve();
            });
          });
          req.on('error', reject);
          req.end();
          requests.push(req);
        }),
    );
    await Promise.all(updates);
    expect((await statusOf(server.url)).events.clients).toBe(110);
    for (const req of requests) req.destroy();
    server.child.kill('SIGINT');
    const r = await server.done;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/Warning|MaxListeners/);
  });

  it('refuses a corrupt checkpoint in one line with exit 2', async () => {
    const bad = join(tmp.dir, 'bad.ckpt');
    writeFileSync(bad, 'not a checkpoint');
    const r = await runCli(['serve', '--port', '0', '--checkpoint', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/charstream serve: checkpoint: /);
  });
});
