// One measurement of the keyed benchmark in a process of its own (so rss_mb is this form's peak):
// argv[2] is the JSON of a ChildConfig; prints one JSON record on stdout. Modes: 'burst' (all
// events at once: throughput), 'paced' (events at a given rate from a cold start: latency),
// 'steady' (the same after as many events again at that rate through the same states, which are
// not timed), 'million' (a million distinct keys through maxKeys states, a directory store in a
// temp folder: RSS over the run).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { getBackend, ready } from '@rxrnn/kernels';
import { DirectoryStateStore } from '@rxrnn/keyed/node';
import { Observable } from 'rxjs';
import {
  type Answer,
  benchModel,
  burstSource,
  EMBEDDING,
  type Ev,
  type Form,
  LAYERS,
  makeForm,
  maxAbsDiff,
  pacedSource,
  percentile,
  sampled,
  VOCAB,
  zipfEvents,
} from './workload.js';

export interface ChildConfig {
  mode: 'burst' | 'paced' | 'steady' | 'million';
  form: Form;
  hidden: number;
  events: number;
  keys: number;
  zipf: number;
  maxBatch: number;
  maxDelayMs: number;
  maxKeys: number;
  /** paced, steady: events per second. */
  rate?: number;
}

const rssMb = (): number => Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;
const peakRssMb = (): number => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
const round = (x: number, d = 3): number => Number(x.toFixed(d));

/** Runs the form once over other keys and events, so JIT and first-use costs fall outside the timing. */
async function warmUp(c: ChildConfig, model: ReturnType<typeof benchModel>): Promise<void> {
  const events = zipfEvents(Math.min(c.events, 4000), c.keys, c.zipf, 2).map((e) => ({ ...e, key: e.key + c.keys }));
  const { op } = makeForm(c.form, model, { ...c, maxKeys: c.keys });
  await new Promise<void>((resolve, reject) =>
    op(burstSource(events, new Float64Array(events.length))).subscribe({ error: reject, complete: resolve }),
  );
}

async function measure(c: ChildConfig): Promise<Record<string, unknown>> {
  const model = benchModel(c.hidden);
  await warmUp(c, model);
  // steady: the first `warm` events (the same Zipf stream) go through the same subscription at the
  // same rate untimed, so the keys they bring are in memory when the timed ones start.
  const warm = c.mode === 'steady' ? c.events : 0;
  const events = zipfEvents(warm + c.events, c.keys, c.zipf);
  // The event index of each key's n-th event, to find an answer's send time.
  const index = new Map<number, number[]>();
  events.forEach((e, i) => {
    const list = index.get(e.key);
    if (list === undefined) index.set(e.key, [i]);
    else list.push(i);
  });
  const sentAt = new Float64Array(events.length);
  const latency = new Float64Array(c.events);
  const kept = new Map<number, Answer[]>();
  const { op, states } = makeForm(c.form, model, c);
  // Garbage collections and page faults of the timed part: what a latency tail is made of.
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  let t0 = performance.now();
  let faults0 = process.resourceUsage().minorPageFault;
  const startTiming = (i: number): void => {
    if (i !== warm) return;
    t0 = performance.now();
    faults0 = process.resourceUsage().minorPageFault;
  };
  const source = c.mode === 'burst' ? burstSource(events, sentAt) : pacedSource(events, sentAt, c.rate!, startTiming);
  let answered = 0;
  let timed = 0;
  await new Promise<void>((resolve, reject) =>
    op(source).subscribe({
      next: (a) => {
        const i = index.get(a.key)![a.seq - 1]!;
        answered++;
        if (i >= warm) latency[timed++] = performance.now() - sentAt[i]!;
        if (sampled(a.key)) {
          const list = kept.get(a.key);
          if (list === undefined) kept.set(a.key, [a]);
          else list.push(a);
        }
      },
      error: reject,
      complete: resolve,
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const faults = process.resourceUsage().minorPageFault - faults0;
  await new Promise((r) => setTimeout(r, 0)); // the observer's last entries
  observer.disconnect();
  if (answered !== events.length) throw new Error(`keyed bench: ${answered} answers to ${events.length} events`);
  const pauses = gcs.filter((g) => g.startTime >= t0 && g.startTime <= t0 + seconds * 1000).map((g) => g.duration);
  const gcTotal = pauses.reduce((a, b) => a + b, 0);
  const m = states?.metrics();
  return {
    suite: 'keyed',
    form: c.form,
    mode: c.mode,
    cell: 'lstm',
    hidden: c.hidden,
    layers: LAYERS,
    vocab: VOCAB,
    embedding: EMBEDDING,
    keys: c.keys,
    events: c.events,
    ...(warm > 0 ? { warm_events: warm } : {}),
    zipf: c.zipf,
    ...(c.mode !== 'burst' ? { rate: c.rate } : {}),
    max_batch: c.form === 'keyed' ? c.maxBatch : 1,
    max_delay_ms: c.form === 'keyed' ? c.maxDelayMs : 0,
    batch_mean: m ? round(m.batchMean, 2) : 1,
    events_per_sec: Math.round(c.events / seconds),
    p50_ms: round(percentile(latency, 0.5)),
    p99_ms: round(percentile(latency, 0.99)),
    gc_count: pauses.length,
    gc_ms_total: round(gcTotal, 1),
    gc_ms_max: round(Math.max(0, ...pauses), 1),
    page_faults: faults,
    rss_mb: peakRssMb(),
    max_abs_diff: maxAbsDiff(model, events, kept),
    backend: getBackend(),
    seconds: round(seconds, 2),
  };
}

/** Two passes over `distinct` keys through maxKeys states and a directory store: RSS as it goes. */
async function million(c: ChildConfig): Promise<Record<string, unknown>> {
  const model = benchModel(c.hidden);
  const distinct = c.keys;
  const passes = 2;
  const dir = mkdtempSync(join(tmpdir(), 'rxrnn-keyed-million-'));
  const token = (k: number, pass: number) => (k * 31 + pass * 7) % VOCAB;
  try {
    const store = new DirectoryStateStore(dir);
    const { op, states } = makeForm('keyed', model, { ...c, store });
    const rss: number[] = [];
    const maxKeysSeen: number[] = [];
    const every = Math.max(1, Math.floor((distinct * passes) / 20));
    const source = new Observable<Ev>((s) => {
      let i = 0;
      for (let pass = 0; pass < passes; pass++) {
        for (let k = 0; k < distinct && !s.closed; k++) {
          if (i++ % every === 0) {
            rss.push(rssMb());
            maxKeysSeen.push(states!.size);
          }
          s.next({ key: k, value: token(k, pass) });
        }
      }
      s.complete();
    });
    const kept = new Map<number, Answer[]>();
    const keep = (k: number) => k % 10007 === 0;
    const t0 = performance.now();
    let answered = 0;
    await new Promise<void>((resolve, reject) =>
      op(source).subscribe({
        next: (a) => {
          answered++;
          if (keep(a.key)) {
            const list = kept.get(a.key);
            if (list === undefined) kept.set(a.key, [a]);
            else list.push(a);
          }
        },
        error: reject,
        complete: resolve,
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    rss.push(rssMb());
    // The kept keys against their two tokens stepped alone.
    let worst = 0;
    for (const [k, answers] of kept) {
      const state = model.createState(1);
      for (let pass = 0; pass < passes; pass++) {
        const want = model.step(Int32Array.of(token(k, pass)), state);
        const got = answers[pass];
        if (got?.output == null || got.seq !== pass + 1) worst = Infinity;
        else for (let v = 0; v < VOCAB; v++) worst = Math.max(worst, Math.abs(got.output[v]! - want[v]!));
      }
    }
    const m = states!.metrics();
    return {
      suite: 'keyed',
      form: 'keyed',
      mode: 'million',
      cell: 'lstm',
      hidden: c.hidden,
      layers: LAYERS,
      keys: distinct,
      events: answered,
      max_keys: c.maxKeys,
      max_batch: c.maxBatch,
      batch_mean: round(m.batchMean, 2),
      events_per_sec: Math.round(answered / seconds),
      evictions: m.evictions,
      restores: m.restores,
      state_mb: round(m.stateBytes / 2 ** 20, 1),
      keys_in_memory_max: Math.max(...maxKeysSeen, m.keysInMemory),
      rss_mb_samples: rss,
      rss_mb: peakRssMb(),
      max_abs_diff: worst,
      backend: getBackend(),
      store: 'directory',
      seconds: round(seconds, 1),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await ready();
const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const record = config.mode === 'million' ? await million(config) : await measure(config);
console.log(JSON.stringify(record));
