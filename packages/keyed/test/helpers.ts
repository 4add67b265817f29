// Test-only helpers of the keyed specs: small models, interleaved event streams, the lone
// per-key oracles (each key stepped alone at batch 1), and stores that answer later or fail.
import { CharModel, type createCell } from '@rxrnn/cells';
import { Rng } from '@rxrnn/kernels';
import { from, lastValueFrom, toArray } from 'rxjs';
import type { KeyedEvent, KeyedKey, KeyedResult, MemoryStateStore, StateStore } from '../src/index.js';

export const VOCAB = [...'abcdefghijk'];

/** A 2-layer LSTM char model (V 11, E 5, H 16) with seeded weights. */
export function smallCharModel(cell: 'lstm' | 'gru' | 'rnn' = 'lstm', layers = 2): CharModel {
  return new CharModel({ cell, vocab: VOCAB, hidden: 16, layers, embeddingDim: 5, seed: 7 });
}

/** `n` events over `keys` keys in a seeded interleaving (skewed: low keys come more often). */
export function tokenEvents(n: number, keys: number, seed = 1): KeyedEvent<number, string>[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const k = Math.floor(keys * rng.uniform() ** 2);
    return { key: `k${k}`, value: Math.floor(rng.uniform() * VOCAB.length) };
  });
}

/** `n` input-vector events of length nx over `keys` keys. */
export function vectorEvents(n: number, keys: number, nx: number, seed = 2): KeyedEvent<Float32Array, number>[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({
    key: Math.floor(keys * rng.uniform()),
    value: Float32Array.from({ length: nx }, () => 2 * rng.uniform() - 1),
  }));
}

/** The events of each key, in order. */
export function perKey<V, K extends KeyedKey>(events: readonly KeyedEvent<V, K>[]): Map<K, V[]> {
  const m = new Map<K, V[]>();
  for (const e of events) {
    const list = m.get(e.key);
    if (list === undefined) m.set(e.key, [e.value]);
    else list.push(e.value);
  }
  return m;
}

/** The results of each key, in emission order. */
export function resultsPerKey<O, K extends KeyedKey>(
  results: readonly KeyedResult<O, K>[],
): Map<K, KeyedResult<O, K>[]> {
  const m = new Map<K, KeyedResult<O, K>[]>();
  for (const r of results) {
    const list = m.get(r.key);
    if (list === undefined) m.set(r.key, [r]);
    else list.push(r);
  }
  return m;
}

/** Oracle: each key's tokens through CharModel.step alone at batch 1 → its logits. */
export function loneLogits(
  model: CharModel,
  events: readonly KeyedEvent<number, string>[],
): Map<string, Float32Array[]> {
  const out = new Map<string, Float32Array[]>();
  for (const [key, tokens] of perKey(events)) {
    const state = model.createState(1);
    out.set(
      key,
      tokens.map((t) => model.step(Int32Array.of(t), state).slice()),
    );
  }
  return out;
}

/** Oracle: a cell or stack stepped alone per key at batch 1 → h per event. */
export function loneH(
  cell:
    | ReturnType<typeof createCell>
    | { createState(B: number): Float32Array; step(s: Float32Array, x: Float32Array, B: number): Float32Array },
  events: readonly KeyedEvent<Float32Array, number>[],
): Map<number, Float32Array[]> {
  const out = new Map<number, Float32Array[]>();
  for (const [key, xs] of perKey(events)) {
    const state = cell.createState(1);
    out.set(
      key,
      xs.map((x) => cell.step(state, x, 1).slice()),
    );
  }
  return out;
}

/** Largest |a − b| over two lists of arrays (Infinity when their shapes differ). */
export function maxAbsDiff(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    if (x.length !== y.length) worst = Infinity;
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - y[j]!));
  });
  return worst;
}

export const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.slice().buffer));

/** Runs `events` through a pipe from a synchronous source and collects everything. */
export function collect<I, O>(
  events: readonly I[],
  op: (s: ReturnType<typeof from<I[]>>) => import('rxjs').Observable<O>,
): Promise<O[]> {
  return lastValueFrom(op(from(events as I[])).pipe(toArray()));
}

/**
 * A store over another that answers on a later macrotask (a network store), logging the order
 * of its operations per key. `failOn` makes an operation on a key reject.
 */
export class SlowStore implements StateStore {
  readonly log: string[] = [];
  failOn: { op: 'get' | 'put' | 'delete'; key: KeyedKey } | null = null;
  /** `slow`: the operations that answer later; the others answer at once. */
  constructor(
    readonly inner: MemoryStateStore,
    readonly slow: ReadonlySet<string> = new Set(['get', 'put', 'delete']),
  ) {}

  #later<T>(op: 'get' | 'put' | 'delete', key: KeyedKey, f: () => T): Promise<T> | T {
    if (!this.slow.has(op)) {
      this.log.push(`${op} ${String(key)}`);
      return f();
    }
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        this.log.push(`${op} ${String(key)}`);
        if (this.failOn && this.failOn.op === op && this.failOn.key === key) reject(new Error('disk on fire'));
        else resolve(f());
      }, 1),
    );
  }

  get(key: KeyedKey): Promise<Uint8Array | undefined> | Uint8Array | undefined {
    return this.#later('get', key, () => this.inner.get(key));
  }

  put(key: KeyedKey, bytes: Uint8Array): Promise<void> | void {
    return this.#later('put', key, () => this.inner.put(key, bytes));
  }

  delete(key: KeyedKey): Promise<void> | void {
    return this.#later('delete', key, () => this.inner.delete(key));
  }
}
