// Many /api/generate streams at once, stepped together by the server's keyed engine: each text is
// the text a lone generate() gives with the same prime, length, sampling settings and seed. Runs
// on the js backend, where a batched product equals the single-row product bit for bit, so the
// sampled text must match exactly (on wasm the two round differently, ~1e-7, and a draw could
// rarely flip; the engine's float agreement there is tested in packages/keyed).
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CharModel, generate } from '@rxrnn/cells';
import { getBackend, setBackend } from '@rxrnn/kernels';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharstreamServer } from '../src/server/http-server.js';
import type { TrainingSource } from '../src/server/training-host.js';
import { tempDir } from './helpers.js';

const initial = getBackend();
setBackend('js');

class StandInTraining extends EventEmitter implements TrainingSource {
  readonly model = new CharModel({
    cell: 'lstm',
    hidden: 16,
    layers: 2,
    embeddingDim: 6,
    vocab: [...'\n .abcdefghij'],
    seed: 5,
  });
  readonly config = this.model.config;
  weightsStep = 1;
  points = [];
  evals = [];
  flow = null;
  status() {
    return { training: { running: true } };
  }
  weights() {
    return { step: 1, params: this.model.params.slice() };
  }
  async checkpoint(): Promise<Uint8Array> {
    throw new Error('no checkpoint in this test');
  }
}

const tmp = tempDir();
const training = new StandInTraining();
let server: Server;
let port: number;

beforeAll(async () => {
  const webRoot = join(tmp.dir, 'web');
  mkdirSync(webRoot, { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html>');
  server = createCharstreamServer({ training, webRoot }); // the default limit: 64 generations
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  tmp.cleanup();
  setBackend(initial);
});

/** The text of one generation's SSE stream (its token events joined), and how it ended. */
function generation(query: string): Promise<{ text: string; end: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/api/generate?${query}` }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (buffer += d));
      res.on('end', () => {
        const events = buffer
          .split('\n\n')
          .filter((b) => b.includes('event:'))
          .map((b) => ({
            event: /event: (.*)/.exec(b)![1]!,
            data: JSON.parse(/data: (.*)/.exec(b)![1]!) as { text?: string },
          }));
        resolve({
          text: events
            .filter((e) => e.event === 'token')
            .map((e) => e.data.text)
            .join(''),
          end: events.at(-1)!.event,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/generate, many at once', () => {
  it('64 concurrent generations are stepped together, each equal to a lone generate() with its seed', async () => {
    const vocab = training.config.vocab;
    const requests = Array.from({ length: 64 }, (_, i) => ({
      prime: Array.from({ length: 1 + (i % 5) }, (_, j) => vocab[(i * 7 + j * 3) % vocab.length]!).join(''),
      length: 200 + ((i * 37) % 300),
      temperature: 0.5 + (i % 10) / 10,
      topK: i % 3 === 0 ? 1 + (i % 8) : undefined,
      topP: i % 4 === 0 ? 0.85 : undefined,
      seed: 1000 + i,
    }));
    const query = (r: (typeof requests)[number]) =>
      new URLSearchParams({
        prime: r.prime,
        length: String(r.length),
        temperature: String(r.temperature),
        seed: String(r.seed),
        ...(r.topK === undefined ? {} : { top_k: String(r.topK) }),
        ...(r.topP === undefined ? {} : { top_p: String(r.topP) }),
      }).toString();
    const got = await Promise.all(requests.map((r) => generation(query(r))));
    for (const [i, r] of requests.entries()) {
      const want = (await lastValueFrom(generate(training.model, r).pipe(toArray()))).join('');
      expect(got[i]!.end, `generation ${i}`).toBe('done');
      expect(got[i]!.text, `generation ${i} (seed ${r.seed})`).toBe(want);
    }
    // They went through in shared batches, not one by one. (How wide the batches get depends on
    // how the 64 requests overlap in time, which a loaded machine changes: at load 15 the mean
    // was 3.9, so the check is only that steps were shared.)
    const status = await new Promise<{ generations: { batchMean: number; completed: number } }>((resolve, reject) =>
      request({ host: '127.0.0.1', port, path: '/api/status' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body)));
      })
        .on('error', reject)
        .end(),
    );
    expect(status.generations.completed).toBe(64);
    expect(status.generations.batchMean).toBeGreaterThan(1);
  });
});
