// The HTTP server against a stand-in training source (a real tiny CharModel, no worker): API
// validation (400/404/405/429), SSE generation, disconnects freeing their generation at once,
// static files that cannot escape their folder, weights, checkpoint and event stream.
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { CharModel } from '@rxrnn/cells';
import { createOptimizer, decodeCheckpoint, encodeCheckpoint } from '@rxrnn/trainer/node';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlineCheckpoint } from '../src/model-io.js';
import { createCharstreamServer } from '../src/server/http-server.js';
import type { FlowSnapshot } from '../src/server/protocol.js';
import type { TrainingSource } from '../src/server/training-host.js';
import { decodeWeights } from '../src/weights-doc.js';
import { tempDir } from './helpers.js';

class StandInTraining extends EventEmitter implements TrainingSource {
  readonly model = new CharModel({ cell: 'lstm', hidden: 8, embeddingDim: 4, vocab: [...'\n abcdefghij'], seed: 2 });
  readonly config = this.model.config;
  weightsStep = 7;
  points = [
    {
      step: 5,
      tokens: 320,
      loss: 2.5,
      bpc: 2.5 / Math.LN2,
      charsPerSecond: 1000,
      gradNorm: 1,
      clipped: 2,
      peakGradNorm: 7,
      elapsed: 1,
    },
  ];
  evals = [{ step: 5, tokens: 320, valLoss: 2.6 }];
  flow: FlowSnapshot | null = {
    step: 4,
    tokens: 256,
    cell: 'lstm' as const,
    T: 3,
    layers: [{ h: [1, 0.5, 0.1], c: [1, 0.9, 0.8] }],
  };
  status() {
    return { model: { cell: 'lstm', hidden: 8 }, training: { running: true, step: this.weightsStep } };
  }
  weights() {
    return { step: this.weightsStep, params: this.model.params.slice() };
  }
  async checkpoint() {
    // An optimizer that has made the 7 updates the counters say.
    const optimizer = createOptimizer({ kind: 'adam' }, this.model.params.length);
    optimizer.setState({ ...optimizer.getState(), step: 7 });
    return encodeCheckpoint(
      onlineCheckpoint(this.model, optimizer, { step: 7, tokens: 448, seconds: 1, history: [], training: {}, seed: 1 }),
    );
  }
}

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const tmp = tempDir();
const training = new StandInTraining();
let server: Server;
let port: number;

/** GET with the path sent exactly as given (no client-side normalization of "..") */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface SseEvent {
  event: string;
  data: any;
}

/** Opens an event stream; `next()` resolves with each event in order. */
function openSse(
  path: string,
): Promise<{ res: IncomingMessage; next: () => Promise<SseEvent>; close: () => void; all: () => Promise<SseEvent[]> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let buffer = '';
      const queue: SseEvent[] = [];
      const waiters: ((e: SseEvent) => void)[] = [];
      let ended = false;
      const endWaiters: (() => void)[] = [];
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buffer += d;
        for (let cut = buffer.indexOf('\n\n'); cut !== -1; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === undefined || data === undefined) continue;
          const e = { event, data: JSON.parse(data) };
          const w = waiters.shift();
          if (w) w(e);
          else queue.push(e);
        }
      });
      res.on('end', () => {
        ended = true;
        endWaiters.forEach((f) => f());
      });
      resolve({
        res,
        next: () =>
          new Promise((r) => {
            const e = queue.shift();
            if (e) r(e);
            else waiters.push(r);
          }),
        close: () => req.destroy(),
        all: () =>
          new Promise((r) => {
            const finish = () => r(queue.splice(0));
            if (ended) finish();
            else endWaiters.push(finish);
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls /api/status until `ok` holds, at most `tries` times (each after a short pause). */
async function statusUntil(ok: (s: any) => boolean, tries = 100): Promise<any> {
  let s: any;
  for (let i = 0; i < tries; i++) {
    s = JSON.parse((await get('/api/status')).body.toString());
    if (ok(s)) return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  return s;
}

beforeAll(async () => {
  const webRoot = join(tmp.dir, 'web');
  mkdirSync(join(webRoot, 'sub'), { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>page</title>');
  writeFileSync(join(webRoot, 'sub', 'a.js'), 'export {}');
  writeFileSync(join(tmp.dir, 'secret.txt'), 'TOP-SECRET');
  server = createCharstreamServer({ training, webRoot, maxGenerations: 2, maxLength: 2_000_000 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  tmp.cleanup();
});

describe('static files', () => {
  it('serves the page with cross-origin isolation headers', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect((await get('/sub/a.js')).headers['content-type']).toMatch(/javascript/);
    expect((await get('/nope.js')).status).toBe(404);
  });

  it.each([
    '/../secret.txt',
    '/sub/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/..%2fsecret.txt',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/%00secret.txt',
    '/%2',
  ])('cannot escape the folder with %s', async (path) => {
    const r = await get(path);
    expect([400, 403, 404]).toContain(r.status);
    expect(r.body.toString()).not.toContain('TOP-SECRET');
    expect(JSON.parse(r.body.toString()).error).toBeTruthy();
  });

  it('takes a double-encoded dot as a file name, not as a parent', async () => {
    const r = await get('/%252e%252e/secret.txt');
    expect(r.status).toBe(404);
  });

  it('answers 405 to other methods and 404 to unknown API paths', async () => {
    const post = await get('/api/status', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await get('/api/nothing')).status).toBe(404);
  });

  it('answers HEAD of a stream with its headers and starts nothing', async () => {
    const before = JSON.parse((await get('/api/status')).body.toString()).generations;
    const r = await get('/api/generate?length=5', {}, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/event-stream/);
    expect(r.body.length).toBe(0);
    const after = JSON.parse((await get('/api/status')).body.toString()).generations;
    expect(after.completed + after.active).toBe(before.completed + before.active);
  });
});

describe('GET /api/generate', () => {
  it.each([
    ['length=0', /length "0", expected an integer in \[1, 2000000\]/],
    ['length=abc', /length "abc"/],
    ['length=2000001', /length "2000001"/],
    ['temperature=0', /temperature "0", expected a number in \(0, 100\]/],
    ['temperature=hot', /temperature "hot"/],
    ['top_k=0', /top_k "0"/],
    ['top_k=13', /top_k "13", expected an integer in \[1, 12\]/],
    ['top_p=1.5', /top_p "1.5"/],
    ['seed=-1', /seed "-1"/],
    ['prime=', /prime has 0 characters/],
    ['prime=XYZ', /prime character "X" is not in the model's vocabulary/],
    ['lenght=5', /unknown parameter "lenght"/],
  ])('400 for %s', async (query, message) => {
    const r = await get(`/api/generate?${query}`);
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(r.body.toString()).error).toMatch(message);
  });

  it('streams the generated text as server-sent events, reproducible by seed', async () => {
    const run = async () => {
      const s = await openSse('/api/generate?prime=abc&length=300&temperature=0.9&top_k=8&top_p=0.95&seed=11');
      expect(s.res.headers['content-type']).toMatch(/text\/event-stream/);
      return s.all();
    };
    const [a, b] = [await run(), await run()];
    expect(a[0]).toMatchObject({
      event: 'start',
      data: { prime: 'abc', length: 300, temperature: 0.9, topK: 8, topP: 0.95, seed: 11, weightsStep: 7 },
    });
    const text = a
      .filter((e) => e.event === 'token')
      .map((e) => e.data.text)
      .join('');
    expect([...text]).toHaveLength(300);
    for (const ch of text) expect(training.config.vocab).toContain(ch);
    const done = a.at(-1)!;
    expect(done).toMatchObject({ event: 'done', data: { chars: 300 } });
    expect(done.data.usPerChar).toBeGreaterThan(0);
    expect(
      b
        .filter((e) => e.event === 'token')
        .map((e) => e.data.text)
        .join(''),
    ).toBe(text);
  });

  it('stops a generation the moment its client disconnects, and keeps serving others', async () => {
    const before = await statusUntil((s) => s.generations.active === 0);
    const s = await openSse('/api/generate?length=2000000&seed=1');
    expect((await s.next()).event).toBe('start');
    expect((await s.next()).event).toBe('token');
    const during = JSON.parse((await get('/api/status')).body.toString());
    expect(during.generations.active).toBe(1);
    s.close();
    const after = await statusUntil((x) => x.generations.active === 0);
    expect(after.generations.active).toBe(0);
    expect(after.generations.aborted).toBe(before.generations.aborted + 1);
    // Sampling stopped too: the count of sampled characters no longer moves.
    await new Promise((r) => setTimeout(r, 50));
    const later = JSON.parse((await get('/api/status')).body.toString());
    expect(later.generations.chars).toBe(after.generations.chars);
    expect(later.generations.chars - before.generations.chars).toBeLessThan(2_000_000);
    // Freed, not just forgotten: a new generation of the full length fits in the slot at once.
    const again = await openSse('/api/generate?length=5&seed=2');
    expect((await again.all()).at(-1)!.event).toBe('done');
  });

  it('refuses generations past the limit with 429 while the others stream on', async () => {
    await statusUntil((s) => s.generations.active === 0);
    const a = await openSse('/api/generate?length=2000000&seed=3');
    const b = await openSse('/api/generate?length=2000000&seed=4');
    await a.next();
    await b.next();
    const refused = await get('/api/generate?length=10');
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body.toString()).error).toMatch(/too many generations at once \(2\)/);
    expect((await get('/api/status')).status).toBe(200);
    a.close();
    b.close();
    const s = await statusUntil((x) => x.generations.active === 0);
    expect(s.generations.active).toBe(0);
    expect(s.generations.refused).toBeGreaterThanOrEqual(1);
  });
});

describe('weights, checkpoint, status and events', () => {
  it('publishes the weights as a checksummed msgpack document with an ETag', async () => {
    const r = await get('/api/weights');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-msgpack');
    // Read with the test's own msgpack reader and zlib's CRC-32, not the app's decoder.
    const packr = new Packr({ moreTypes: true, useRecords: false });
    const env = packr.unpack(r.body);
    expect(env).toMatchObject({ format: 'rxrnn-weights', version: 2 });
    expect(env.crc32).toBe(zlibCrc32(env.body));
    const doc = packr.unpack(env.body);
    expect(doc).toMatchObject({ step: 7, config: { cell: 'lstm', hidden: 8 } });
    expect(doc.params).toBeInstanceOf(Float32Array);
    expect(Array.from(doc.params)).toEqual(Array.from(training.model.params));
    // What the page does with it.
    const page = decodeWeights(new Uint8Array(r.body));
    expect(page.config).toEqual(training.config);
    expect(Array.from(page.params)).toEqual(Array.from(training.model.params));
    expect((await get('/api/weights', { 'If-None-Match': r.headers.etag! })).status).toBe(304);
  });

  it('downloads a checkpoint the trainer can load', async () => {
    const r = await get('/api/checkpoint');
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toMatch(/attachment; filename="charstream.ckpt"/);
    const ckpt = decodeCheckpoint(new Uint8Array(r.body));
    expect(ckpt.counters.step).toBe(7);
    expect(Array.from(ckpt.params)).toEqual(Array.from(training.model.params));
  });

  it('streams the curve so far, then live training events', async () => {
    const s = await openSse('/api/events');
    expect((await s.next()).event).toBe('status');
    const history = await s.next();
    expect(history).toMatchObject({
      event: 'history',
      data: {
        points: [{ step: 5, loss: 2.5, clipped: 2, peakGradNorm: 7 }],
        evals: [{ valLoss: 2.6 }],
        flow: { step: 4, T: 3, layers: [{ h: [1, 0.5, 0.1], c: [1, 0.9, 0.8] }] },
      },
    });
    training.emit('update', { step: 6, tokens: 384, loss: 2.4 });
    expect(await s.next()).toMatchObject({ event: 'update', data: { step: 6, loss: 2.4 } });
    training.emit('eval', { step: 6, tokens: 384, valLoss: 2.5 });
    expect(await s.next()).toMatchObject({ event: 'eval', data: { valLoss: 2.5 } });
    const flow = { step: 6, tokens: 384, cell: 'lstm', T: 2, layers: [{ h: [0.4, 0.01], c: [0.3, 0.2] }] };
    training.emit('flow', flow);
    expect(await s.next()).toEqual({ event: 'flow', data: flow });
    s.close();
    const after = await statusUntil((x) => x.events.clients === 0);
    expect(after.events.clients).toBe(0);
  });

  it('serves 120 event clients through one listener per event, without a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const clients = await Promise.all(Array.from({ length: 120 }, () => openSse('/api/events')));
      for (const c of clients) {
        expect((await c.next()).event).toBe('status');
        expect((await c.next()).event).toBe('history');
      }
      expect((await statusUntil((x) => x.events.clients === 120)).events.clients).toBe(120);
      expect(training.listenerCount('update')).toBe(1);
      expect(training.listenerCount('flow')).toBe(1);
      training.emit('weights', 8);
      for (const c of clients) expect(await c.next()).toEqual({ event: 'weights', data: { step: 8 } });
      for (const c of clients) c.close();
      expect((await statusUntil((x) => x.events.clients === 0)).events.clients).toBe(0);
      // Warnings are emitted on the next tick: let one pass before looking.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
