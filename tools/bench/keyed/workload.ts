// The keyed benchmark's workload, shared by the parent (tools/bench/keyed.ts) and its children:
// the char model (2-layer LSTM, V 65, E 64), Zipf-skewed keyed token events from a seed, the two
// forms (the keyed engine; groupBy(key) + a per-group pipeline of the cells' operators), paced and
// burst sources, and the oracle: the sampled keys' events stepped alone at batch 1.
import { CharModel, dense, embed, lstm } from '@rxrnn/cells';
import { Rng } from '@rxrnn/kernels';
import { createKeyedStates, type KeyedStates, keyed, keyedCharModel, type StateStore } from '@rxrnn/keyed';
import { groupBy, map, mergeMap, Observable } from 'rxjs';

export const VOCAB = 65;
export const EMBEDDING = 64;
export const LAYERS = 2;

export type Form = 'keyed' | 'groupBy';

/** One keyed token event. */
export interface Ev {
  key: number;
  value: number;
}

/** The benchmark model: 2-layer LSTM char model, seed 1. */
export function benchModel(hidden: number): CharModel {
  const vocab = Array.from({ length: VOCAB }, (_, i) => String.fromCharCode(32 + i));
  return new CharModel({ cell: 'lstm', vocab, hidden, layers: LAYERS, embeddingDim: EMBEDDING, seed: 1 });
}

/**
 * `n` events over `keys` keys, key k drawn with probability ∝ 1/(k+1)^s (Zipf), tokens uniform;
 * the same list for the same arguments.
 */
export function zipfEvents(n: number, keys: number, s: number, seed = 1): Ev[] {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let k = 0; k < keys; k++) total += 1 / (k + 1) ** s;
  let acc = 0;
  for (let k = 0; k < keys; k++) {
    acc += 1 / (k + 1) ** s / total;
    cdf[k] = acc;
  }
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const u = rng.uniform();
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return { key: lo, value: Math.floor(rng.uniform() * VOCAB) };
  });
}

/** Keys whose outputs are kept for max_abs_diff: every 97th key and the three hottest. */
export const sampled = (key: number): boolean => key % 97 === 0 || key < 3;

/** What one form answers per event, as both forms emit it. */
export interface Answer {
  key: number;
  seq: number;
  output: Float32Array | null;
}

/** The form as an operator over the events (the keyed one with its states, for the metrics). */
export function makeForm(
  form: Form,
  model: CharModel,
  o: { maxBatch: number; maxDelayMs: number; maxKeys: number; store?: StateStore },
): { op: (source: Observable<Ev>) => Observable<Answer>; states: KeyedStates<unknown, unknown> | null } {
  if (form === 'keyed') {
    const states = createKeyedStates(keyedCharModel(model), {
      maxKeys: o.maxKeys,
      ...(o.store ? { store: o.store } : {}),
    });
    return {
      states: states as KeyedStates<unknown, unknown>,
      op: (source) =>
        source.pipe(
          keyed(states, { maxBatch: o.maxBatch, maxDelayMs: o.maxDelayMs }),
          map((r) => {
            if ('error' in r) throw r.error;
            return r as Answer;
          }),
        ),
    };
  }
  return {
    states: null,
    op: (source) =>
      source.pipe(
        groupBy((e) => e.key),
        mergeMap((g) =>
          g.pipe(
            map((e) => e.value),
            embed(model.embedding!),
            lstm(model.rnn),
            dense(model.linear),
            map((output, i) => ({ key: g.key, seq: i + 1, output })),
          ),
        ),
      ),
  };
}

/** All events at once, synchronously: the most the form can take (performance.now() per emission). */
export function burstSource(events: readonly Ev[], sentAt: Float64Array): Observable<Ev> {
  return new Observable<Ev>((s) => {
    for (let i = 0; i < events.length && !s.closed; i++) {
      sentAt[i] = performance.now();
      s.next(events[i]!);
    }
    s.complete();
  });
}

/**
 * Events at `rate` per second: every millisecond (setTimeout) the events due by then are emitted,
 * each stamped when emitted; `onEmit(i)` runs just before event i goes out.
 */
export function pacedSource(
  events: readonly Ev[],
  sentAt: Float64Array,
  rate: number,
  onEmit?: (i: number) => void,
): Observable<Ev> {
  return new Observable<Ev>((s) => {
    let i = 0;
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = (): void => {
      const due = Math.min(events.length, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      for (; i < due && !s.closed; i++) {
        onEmit?.(i);
        sentAt[i] = performance.now();
        s.next(events[i]!);
      }
      if (i >= events.length) s.complete();
      else if (!s.closed) timer = setTimeout(tick, 1);
    };
    tick();
    return () => clearTimeout(timer);
  });
}

/** Largest |out − lone| over the kept answers: each sampled key's tokens stepped alone at B = 1. */
export function maxAbsDiff(model: CharModel, events: readonly Ev[], kept: Map<number, Answer[]>): number {
  const tokens = new Map<number, number[]>();
  for (const e of events) {
    if (!sampled(e.key)) continue;
    const list = tokens.get(e.key);
    if (list === undefined) tokens.set(e.key, [e.value]);
    else list.push(e.value);
  }
  let worst = 0;
  const V = VOCAB;
  for (const [key, ts] of tokens) {
    const answers = kept.get(key) ?? [];
    if (answers.length !== ts.length) return Infinity;
    const state = model.createState(1);
    ts.forEach((t, i) => {
      const want = model.step(Int32Array.of(t), state);
      const got = answers[i]!;
      if (got.seq !== i + 1 || got.output === null) worst = Infinity;
      else for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got.output[v]! - want[v]!));
    });
  }
  return worst;
}

/** Nearest-rank percentile of `xs` (sorted in place). */
export function percentile(xs: Float64Array, p: number): number {
  if (xs.length === 0) return 0;
  xs.sort();
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))]!;
}
