// The charstream HTTP server: the web page (static, cross-origin isolated so the page's WASM can
// use SharedArrayBuffer) and the JSON/SSE API over a TrainingSource. Generations are bounded in
// length and number (429 past the limit) and stop the moment their client disconnects.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generate } from '@rxrnn/cells';
import { encodeWeights } from '../weights-doc.js';
import type { FlowSnapshot, TrainingPoint } from './protocol.js';
import { keepAlive, sendSse, startSse } from './sse.js';
import { resolveStatic, sendStatic } from './static-files.js';
import type { EvalPoint, TrainingSource } from './training-host.js';

/** Options of createCharstreamServer(). */
export interface CharstreamServerOptions {
  training: TrainingSource;
  /** Folder of the built web page (index.html, main.js, style.css). */
  webRoot: string;
  /** Generations streaming at once; one more gets 429. Default 4. */
  maxGenerations?: number;
  /** Longest generation a request may ask for, in characters. Default 5000. */
  maxLength?: number;
  /** Longest prime text, in characters. Default 1000. */
  maxPrime?: number;
}

/** Every response carries these: cross-origin isolation for SharedArrayBuffer, no sniffing. */
const SECURITY_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** The weights document of GET /api/weights (../weights-doc.ts), for the page's own copy of the model. */
export { WEIGHTS_FORMAT } from '../weights-doc.js';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Validated generation request. */
export interface GenerateRequest {
  prime: string;
  length: number;
  temperature: number;
  topK: number | undefined;
  topP: number | undefined;
  seed: number;
}

const GENERATE_PARAMS = ['prime', 'length', 'temperature', 'top_k', 'top_p', 'seed'];

/** Parses /api/generate's query; HttpError 400 naming the parameter and what was expected. */
export function parseGenerateQuery(
  q: URLSearchParams,
  vocab: readonly string[],
  maxLength: number,
  maxPrime: number,
): GenerateRequest {
  for (const key of q.keys()) {
    if (!GENERATE_PARAMS.includes(key))
      throw new HttpError(
        400,
        `unknown parameter ${JSON.stringify(key)}, expected one of ${GENERATE_PARAMS.join(', ')}`,
      );
  }
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = q.get(name);
    if (raw === null) return undefined;
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
      throw new HttpError(400, `${name} ${JSON.stringify(raw)}, expected an integer in [${min}, ${max}]`);
    return Number(raw);
  };
  const num = (name: string, min: number, max: number): number | undefined => {
    const raw = q.get(name);
    if (raw === null) return undefined;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || v <= min || v > max)
      throw new HttpError(400, `${name} ${JSON.stringify(raw)}, expected a number in (${min}, ${max}]`);
    return v;
  };
  const prime = q.get('prime') ?? (vocab.includes('\n') ? '\n' : vocab[0]!);
  const chars = [...prime];
  if (chars.length === 0 || chars.length > maxPrime)
    throw new HttpError(400, `prime has ${chars.length} characters, expected 1 to ${maxPrime}`);
  const bad = chars.find((ch) => !vocab.includes(ch));
  if (bad !== undefined)
    throw new HttpError(
      400,
      `prime character ${JSON.stringify(bad)} is not in the model's vocabulary of ${vocab.length} characters`,
    );
  return {
    prime,
    length: int('length', 1, maxLength) ?? Math.min(200, maxLength),
    temperature: num('temperature', 0, 100) ?? 0.8,
    topK: int('top_k', 1, vocab.length),
    topP: num('top_p', 0, 1),
    seed: int('seed', 0, 2 ** 31 - 1) ?? Math.floor(Math.random() * 2 ** 31),
  };
}

/**
 * The charstream HTTP server over a training source: the page (static files), `/api/status`,
 * `/api/weights` (the weights document), `/api/checkpoint`, `/api/events` (server-sent training
 * events, any number of clients) and `/api/generate` (server-sent generation, bounded in length
 * and number). GET and HEAD only. Not listening yet: call `listen()`.
 */
export function createCharstreamServer(o: CharstreamServerOptions): Server {
  const { training, webRoot } = o;
  const maxGenerations = o.maxGenerations ?? 4;
  const maxLength = o.maxLength ?? 5000;
  const maxPrime = o.maxPrime ?? 1000;
  // chars counts every character sampled, so a test can see that an aborted generation stopped.
  const gen = { active: 0, completed: 0, aborted: 0, refused: 0, chars: 0 };

  const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      ...extra,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(text);
  };
  // Every event stream gets the training events through one listener per event (not three per
  // client), so any number of clients costs a set entry each and no emitter listener limit trips.
  const eventStreams = new Set<ServerResponse>();
  const broadcast = (event: string, data: unknown) => {
    for (const res of eventStreams) sendSse(res, event, data);
  };
  const onUpdate = (p: TrainingPoint) => broadcast('update', p);
  const onEval = (e: EvalPoint) => broadcast('eval', { step: e.step, tokens: e.tokens, valLoss: e.valLoss });
  const onWeights = (step: number) => broadcast('weights', { step });
  const onFlow = (f: FlowSnapshot) => broadcast('flow', f);
  training.on('update', onUpdate);
  training.on('eval', onEval);
  training.on('weights', onWeights);
  training.on('flow', onFlow);
  const status = () => ({
    ...training.status(),
    generations: { ...gen, max: maxGenerations, maxLength },
    events: { clients: eventStreams.size },
  });

  const routes: Partial<Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>>> =
    {
      '/api/status': (_req, res) => json(res, 200, status()),
      '/api/weights': (req, res) => {
        const { step, params } = training.weights();
        const etag = `"w${step}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { ...SECURITY_HEADERS, ETag: etag });
          return void res.end();
        }
        // A fresh array per response: the socket may send it after the next request has encoded.
        const body = encodeWeights({ step, config: training.config, params });
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': 'application/x-msgpack',
          'Content-Length': body.length,
          ETag: etag,
          'Cache-Control': 'no-cache',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      '/api/checkpoint': async (req, res) => {
        let bytes: Uint8Array;
        try {
          bytes = await training.checkpoint();
        } catch (e) {
          return json(res, 503, { error: `no checkpoint available: ${(e as Error).message}` });
        }
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': 'application/octet-stream',
          'Content-Length': bytes.length,
          'Content-Disposition': 'attachment; filename="charstream.ckpt"',
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : bytes);
      },
      '/api/events': (_req, res) => {
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
        startSse(res);
        keepAlive(res);
        // A late joiner first gets the curve so far, then live points.
        sendSse(res, 'status', status());
        sendSse(res, 'history', { points: training.points, evals: training.evals, flow: training.flow });
        eventStreams.add(res);
        res.once('close', () => eventStreams.delete(res));
      },
      '/api/generate': (_req, res, url) => {
        const r = parseGenerateQuery(url.searchParams, training.config.vocab, maxLength, maxPrime);
        if (gen.active >= maxGenerations) {
          gen.refused++;
          return json(
            res,
            429,
            { error: `too many generations at once (${maxGenerations}); try again when one has finished` },
            { 'Retry-After': '1' },
          );
        }
        gen.active++;
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
        startSse(res);
        sendSse(res, 'start', { ...r, weightsStep: training.weightsStep });
        const t0 = performance.now();
        let count = 0;
        let pending = '';
        let flushing: ReturnType<typeof setImmediate> | null = null;
        let finished = false;
        // Characters of one generation slice go out as one event: fewer writes, same stream.
        const flush = () => {
          flushing = null;
          if (pending && !res.destroyed) sendSse(res, 'token', { text: pending });
          pending = '';
        };
        const end = (event: string, data: unknown) => {
          if (flushing) clearImmediate(flushing);
          flush();
          finished = true;
          gen.active--;
          sendSse(res, event, data);
          res.end();
        };
        const sub = generate(training.model, {
          prime: r.prime,
          length: r.length,
          temperature: r.temperature,
          topK: r.topK,
          topP: r.topP,
          seed: r.seed,
        }).subscribe({
          next: (ch) => {
            pending += ch;
            count++;
            gen.chars++;
            flushing ??= setImmediate(flush);
          },
          error: (e: unknown) => {
            gen.aborted++;
            end('error', { error: e instanceof Error ? e.message : String(e) });
          },
          complete: () => {
            gen.completed++;
            const ms = performance.now() - t0;
            end('done', {
              chars: count,
              ms,
              charsPerSecond: count / Math.max(ms / 1000, 1e-9),
              usPerChar: (ms * 1000) / Math.max(count, 1),
            });
          },
        });
        // The client went away: stop sampling now and give the slot back.
        res.once('close', () => {
          if (finished) return;
          finished = true;
          sub.unsubscribe();
          if (flushing) clearImmediate(flushing);
          gen.active--;
          gen.aborted++;
        });
      },
    };

  const server = createServer((req, res) => {
    const handle = async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return json(
          res,
          405,
          { error: `method ${req.method} not allowed, expected GET or HEAD` },
          { Allow: 'GET, HEAD' },
        );
      }
      const rawPath = (req.url ?? '/').split('?')[0]!;
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        return json(res, 400, { error: 'malformed request URL' });
      }
      const route = routes[rawPath];
      // HEAD of a stream: its headers, without starting a generation or a subscription.
      if (route && req.method === 'HEAD' && (rawPath === '/api/generate' || rawPath === '/api/events')) {
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-cache',
        });
        return void res.end();
      }
      if (route) return route(req, res, url);
      if (rawPath.startsWith('/api/')) return json(res, 404, { error: `no API endpoint ${rawPath}` });
      // Static files: judged on the raw path, before any URL normalization could hide a "..".
      const target = resolveStatic(webRoot, rawPath);
      if ('status' in target)
        return json(res, target.status, {
          error: target.status === 403 ? 'path outside the web folder' : 'malformed path',
        });
      if (!(await sendStatic(res, target.file, req.method === 'HEAD', SECURITY_HEADERS)))
        json(res, 404, { error: `not found: ${rawPath}` });
    };
    handle().catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof HttpError) json(res, e.status, { error: e.message });
      else json(res, 500, { error: e instanceof Error ? e.message : String(e) });
    });
  });
  server.once('close', () => {
    training.off('update', onUpdate);
    training.off('eval', onEval);
    training.off('weights', onWeights);
    training.off('flow', onFlow);
  });
  return server;
}
