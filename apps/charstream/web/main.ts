// The charstream page: loads the WASM kernels, builds the model from the server's published
// weights (refreshed every few seconds), generates text character by character with the user's
// sampling settings, charts the server's training loss (clipping events on its time axis) and
// the training model's gradient flow through time from its event stream.
import { CharModel, createStateHandle, generate, type StateHandle } from '@rxrnn/cells';
import { getBackend, ready } from '@rxrnn/kernels';
import type { Subscription } from 'rxjs';
import { decodeWeights, type WeightsDoc } from '../src/weights-doc.js';
import { type ChartFlow, drawFlowChart, flowSummary } from './flow-chart.js';
import { type ChartEval, type ChartPoint, drawLossChart, lossTrend } from './loss-chart.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const output = $<HTMLPreElement>('output');
const errorBox = $<HTMLDivElement>('error');
const toggle = $<HTMLButtonElement>('toggle');

/** Most characters kept on the page; older text scrolls away so the DOM stays small. */
const MAX_SHOWN = 20_000;
/** Milliseconds between generation ticks when paced. */
const TICK_MS = 100;

let model: CharModel;
let handle: StateHandle;
let etag = '';
let running = true;
let fresh = true;
let lastChar = '';
let generated = 0;
let current: Subscription | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
// Model speed from a short timed run of model.step (µs per character), refreshed now and then.
let usPerChar = NaN;

function showError(message: string): void {
  errorBox.textContent = message;
}

async function fetchWeights(): Promise<WeightsDoc | null> {
  const res = await fetch('/api/weights', { headers: etag ? { 'If-None-Match': etag } : {} });
  if (res.status === 304) return null;
  if (!res.ok) throw new Error(`GET /api/weights: HTTP ${res.status}`);
  // Validated (tag, checksum, config within limits, params sized by the config) before use.
  const doc = decodeWeights(new Uint8Array(await res.arrayBuffer()));
  etag = res.headers.get('ETag') ?? '';
  return doc;
}

function applyWeights(doc: WeightsDoc): void {
  // The page's model was built from the first document: later ones must be of the same model.
  if (JSON.stringify(doc.config) !== JSON.stringify(model.config))
    throw new Error('GET /api/weights: the server now trains another model; reload the page');
  model.params.set(doc.params);
  $('weights').textContent = `from training step ${doc.step} (refreshed ${new Date().toLocaleTimeString()})`;
}

/** Sampling settings from the controls; throws with a message naming the bad field. */
function readSettings(): { temperature: number; topK?: number; topP?: number; pace: number } {
  const temperature = Number(($('temperature') as HTMLInputElement).value);
  if (!(temperature > 0 && temperature <= 100)) throw new Error('temperature must be a number > 0');
  const kRaw = ($('top-k') as HTMLInputElement).value.trim();
  const pRaw = ($('top-p') as HTMLInputElement).value.trim();
  const topK = kRaw === '' ? undefined : Number(kRaw);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1))
    throw new Error('top-k must be an integer >= 1 (or empty)');
  const topP = pRaw === '' ? undefined : Number(pRaw);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new Error('top-p must be in (0, 1] (or empty)');
  return { temperature, topK, topP, pace: Number(($('pace') as HTMLSelectElement).value) };
}

function append(text: string): void {
  const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
  output.append(text);
  if ((output.textContent ?? '').length > MAX_SHOWN * 1.5)
    output.textContent = (output.textContent ?? '').slice(-MAX_SHOWN);
  output.dataset.count = String(generated);
  if (atBottom) output.scrollTop = output.scrollHeight;
}

/** One tick: generate a chunk (continuing the state), then schedule the next tick. */
function tick(): void {
  timer = null;
  if (!running) return;
  let settings: ReturnType<typeof readSettings>;
  try {
    settings = readSettings();
  } catch (e) {
    showError((e as Error).message);
    timer = setTimeout(tick, 500);
    return;
  }
  showError('');
  const vocab = model.config.vocab;
  let prime = lastChar;
  if (fresh) {
    prime = ($('prime') as HTMLInputElement).value || (vocab.includes('\n') ? '\n' : vocab[0]!);
    const bad = [...prime].find((ch) => !vocab.includes(ch));
    if (bad !== undefined) {
      showError(`the prime contains ${JSON.stringify(bad)}, which the model has never seen`);
      running = false;
      toggle.textContent = 'Start';
      return;
    }
    handle.reset();
    append(`${output.textContent ? '\n\n' : ''}${prime}`);
    fresh = false;
  }
  const length = settings.pace > 0 ? Math.max(1, Math.round((settings.pace * TICK_MS) / 1000)) : 256;
  const options = {
    prime,
    length,
    temperature: settings.temperature,
    topK: settings.topK,
    topP: settings.topP,
    seed: (Math.random() * 2 ** 31) | 0,
    state: handle,
  };
  // What the generator really runs with, for people and for the browser test.
  const active = $('active');
  active.textContent = `generating with temperature ${options.temperature}, top-k ${options.topK ?? 'off'}, top-p ${options.topP ?? 'off'}`;
  active.dataset.temperature = String(options.temperature);
  const t0 = performance.now();
  let chunk = '';
  current = generate(model, options).subscribe({
    next: (ch) => {
      chunk += ch;
      lastChar = ch;
      generated++;
    },
    error: (e: unknown) => {
      showError(`generation failed: ${(e as Error).message}`);
      running = false;
      toggle.textContent = 'Start';
    },
    complete: () => {
      const ms = performance.now() - t0;
      append(chunk);
      $('speed').textContent =
        `${generated} chars generated · model step ${usPerChar.toFixed(1)} µs/char, up to ${Math.round(1e6 / usPerChar)} chars/s (${getBackend()} kernels)`;
      const wait = settings.pace > 0 ? Math.max(0, TICK_MS - ms) : 0;
      timer = setTimeout(tick, wait);
    },
  });
}

/**
 * Times model.step alone (no sampling, no scheduling) on a scratch state: the page's generation
 * pace is set by the pace control, so its wall-clock rate says nothing about the model's speed.
 */
function measureSpeed(): void {
  const state = model.createState(1);
  const token = new Int32Array(1);
  const steps = 500;
  // A first round warms the JIT up, so the timed round measures the steady state.
  for (let round = 0; round < 2; round++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      token[0] = i % model.config.vocab.length;
      model.step(token, state);
    }
    usPerChar = ((performance.now() - t0) * 1000) / steps;
  }
}

function stop(): void {
  running = false;
  current?.unsubscribe();
  if (timer !== null) clearTimeout(timer);
  timer = null;
  toggle.textContent = 'Start';
}

function start(fromPrime: boolean): void {
  stop();
  running = true;
  fresh = fromPrime || lastChar === '';
  toggle.textContent = 'Stop';
  tick();
}

function listenToTraining(): void {
  const points: ChartPoint[] = [];
  const evals: ChartEval[] = [];
  const canvas = $<HTMLCanvasElement>('chart');
  const flowCanvas = $<HTMLCanvasElement>('flow');
  let clipThreshold: number | undefined;
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      drawLossChart(canvas, points, evals, clipThreshold);
      showTrend(points, evals);
    });
  };
  const showFlow = (flow: ChartFlow | null) => {
    drawFlowChart(flowCanvas, flow);
    if (flow) $('flow-summary').textContent = flowSummary(flow);
  };
  showFlow(null);
  const events = new EventSource('/api/events');
  events.addEventListener('status', (ev) => {
    const s = JSON.parse((ev as MessageEvent).data) as { training?: { clipThreshold?: number } };
    clipThreshold = s.training?.clipThreshold;
  });
  events.addEventListener('history', (ev) => {
    const h = JSON.parse((ev as MessageEvent).data) as {
      points: ChartPoint[];
      evals: ChartEval[];
      flow?: ChartFlow | null;
    };
    points.splice(0, points.length, ...h.points);
    evals.splice(0, evals.length, ...h.evals);
    redraw();
    if (h.flow) showFlow(h.flow);
  });
  events.addEventListener('flow', (ev) => {
    showFlow(JSON.parse((ev as MessageEvent).data) as ChartFlow);
  });
  events.addEventListener('update', (ev) => {
    const p = JSON.parse((ev as MessageEvent).data) as ChartPoint & {
      step: number;
      bpc: number;
      charsPerSecond: number;
    };
    points.push(p);
    if (points.length > 4000) points.splice(0, points.length - 4000);
    $('training').textContent =
      `step ${p.step} · ${p.tokens} chars · loss ${p.loss.toFixed(3)} nats/char (${p.bpc.toFixed(3)} bits/char) · ` +
      `${Math.round(p.charsPerSecond)} chars/s (${(1e6 / Math.max(p.charsPerSecond, 1e-9)).toFixed(0)} µs/char) on the server`;
    redraw();
  });
  events.addEventListener('eval', (ev) => {
    evals.push(JSON.parse((ev as MessageEvent).data) as ChartEval);
    redraw();
  });
  events.addEventListener('weights', () => {
    void refreshWeights();
  });
}

/** The headline over the chart: the loss now against the loss at the start, and the validation. */
function showTrend(points: readonly ChartPoint[], evals: readonly ChartEval[]): void {
  const trend = lossTrend(points);
  if (!trend) return;
  const el = $('trend');
  const change = (trend.now - trend.first) / trend.first;
  const cls = change < -0.01 ? 'down' : change > 0.01 ? 'up' : '';
  const word = change < -0.01 ? 'down' : change > 0.01 ? 'up' : 'level';
  const val = evals.at(-1);
  el.innerHTML = '';
  el.append(`loss ${trend.now.toFixed(2)} nats/char (${(trend.now / Math.LN2).toFixed(2)} bits/char), `);
  const span = document.createElement('span');
  span.className = cls;
  span.textContent = `${word} ${Math.abs(change * 100).toFixed(0)}% from ${trend.first.toFixed(2)} at the start`;
  el.append(span);
  if (val) el.append(`; validation ${val.valLoss.toFixed(2)} nats/char`);
  el.dataset.change = change.toFixed(4);
}

async function refreshWeights(): Promise<void> {
  try {
    const doc = await fetchWeights();
    if (doc) applyWeights(doc);
  } catch (e) {
    showError((e as Error).message);
  }
}

async function main(): Promise<void> {
  await ready();
  const doc = await fetchWeights();
  if (!doc) throw new Error('GET /api/weights returned no document');
  model = new CharModel(doc.config);
  handle = createStateHandle(model);
  applyWeights(doc);
  const c = model.config;
  $('model').textContent =
    `${c.layers}-layer ${c.cell.toUpperCase()}, hidden ${c.hidden}, embedding ${c.embeddingDim}, ` +
    `${c.vocab.length} characters, ${model.params.length} parameters`;
  toggle.addEventListener('click', () => (running ? stop() : start(false)));
  $('restart').addEventListener('click', () => start(true));
  // New settings apply from the next tick; a new prime starts over from it.
  $('prime').addEventListener('change', () => start(true));
  listenToTraining();
  measureSpeed();
  setInterval(measureSpeed, 10_000);
  document.body.dataset.ready = crossOriginIsolated ? 'isolated' : 'not-isolated';
  start(true);
}

main().catch((e: unknown) => showError(`could not start: ${(e as Error).message}`));
