// KeyedStates: the per-key states of one model that outlive a subscription — the bounded table in
// memory (maxKeys rows, idleMs), the StateStore behind it, checkpoint/delete and the live metrics.
// keyed() drives it (one subscription at a time); it owns its StateTable.
import { checkPositiveFinite, checkPositiveInt, describe } from './internal/checks.js';
import { LOADING, StateTable } from './internal/state-table.js';
import type { KeyedModel } from './keyed-model.js';
import type { KeyedMetrics } from './metrics.js';
import { MemoryStateStore, type StateStore } from './state-store.js';
import type { KeyedKey } from './types.js';

/** Memory bounds and the store of a KeyedStates (also accepted by keyed() directly). */
export interface KeyedStatesOptions {
  /**
   * Most keys whose states are in memory at once, a positive integer. A new key past it evicts
   * the least recently used idle key into the store; when every key in memory has events
   * queued, new keys wait for a place. Memory for states is at most maxKeys × stateSize × 4
   * bytes. Default 10,000.
   */
  maxKeys?: number;
  /**
   * A key with no event for this many milliseconds (scheduler time) is evicted into the store,
   * a finite number > 0 or Infinity. Default Infinity (only maxKeys evicts).
   */
  idleMs?: number;
  /**
   * Where evicted keys' states go and come back from. Default: a new MemoryStateStore (for
   * bounded memory overall, a DirectoryStateStore from `@rxrnn/keyed/node` or your own).
   */
  store?: StateStore;
}

/** The StateTable behind each KeyedStates, for keyed() (not part of the public API). */
export const TABLES = new WeakMap<KeyedStates<unknown, unknown>, StateTable>();

/** Validates the options and makes the table (shared by createKeyedStates and keyed()). */
export function createTable(where: string, model: KeyedModel<unknown, unknown>, o: KeyedStatesOptions): StateTable {
  if (typeof o !== 'object' || o === null)
    throw new TypeError(`${where}: options must be an object, got ${describe(o)}`);
  const maxKeys = checkPositiveInt(where, 'maxKeys', o.maxKeys ?? 10_000);
  const idleMs =
    o.idleMs === Infinity || o.idleMs === undefined ? Infinity : checkPositiveFinite(where, 'idleMs', o.idleMs);
  const store = o.store ?? new MemoryStateStore();
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.get !== 'function' ||
    typeof store.put !== 'function' ||
    typeof store.delete !== 'function'
  ) {
    throw new TypeError(`${where}: store must be a StateStore (get, put, delete), got ${describe(store)}`);
  }
  return new StateTable(model, maxKeys, idleMs, store);
}

/** Throws a TypeError unless `model` came from keyedCell() or keyedCharModel() (or is alike). */
export function checkModel(where: string, model: unknown): asserts model is KeyedModel<unknown, unknown> {
  const m = model as KeyedModel<unknown, unknown>;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.createBatch !== 'function' ||
    typeof m.check !== 'function' ||
    !Number.isSafeInteger(m.stateSize) ||
    !Number.isSafeInteger(m.segment) ||
    m.segment < 1 ||
    m.stateSize % m.segment !== 0
  ) {
    throw new TypeError(`${where}: model must be a KeyedModel (keyedCell(), keyedCharModel()), got ${describe(model)}`);
  }
}

/**
 * The per-key states of one model: at most `maxKeys` in memory, the rest in `store`. Pass it to
 * keyed() as `{ states }` to keep the states beyond one subscription (one subscription at a time),
 * to read live metrics, to checkpoint every key before a deploy, or to forget a key.
 *
 * @example
 * const states = createKeyedStates(keyedCharModel(model, { output: 'surprisal' }), {
 *   maxKeys: 10_000,
 *   idleMs: 10 * 60_000,
 *   store: new DirectoryStateStore('/var/lib/app/keys'), // from '@rxrnn/keyed/node'
 * });
 * events$.pipe(keyed(states, { maxBatch: 64, maxDelayMs: 2 })).subscribe(…);
 * setInterval(() => console.log(states.metrics().latencyMs), 10_000);
 * process.once('SIGTERM', async () => { await states.checkpoint(); process.exit(0); });
 */
export class KeyedStates<V, O> {
  /** The model every key steps through. */
  readonly model: KeyedModel<V, O>;
  /** Most states in memory (the option, default 10,000). */
  readonly maxKeys: number;
  /** Idle time after which a key is evicted, in scheduler ms (the option, default Infinity). */
  readonly idleMs: number;
  /** Where evicted states go (the option, default a new MemoryStateStore). */
  readonly store: StateStore;
  readonly #table: StateTable;

  /** @throws TypeError/RangeError on a bad model or options (see KeyedStatesOptions). */
  constructor(model: KeyedModel<V, O>, options: KeyedStatesOptions = {}) {
    checkModel('createKeyedStates', model);
    this.#table = createTable('createKeyedStates', model as KeyedModel<unknown, unknown>, options);
    this.model = model;
    this.maxKeys = this.#table.maxKeys;
    this.idleMs = this.#table.idleMs;
    this.store = this.#table.store;
    TABLES.set(this as KeyedStates<unknown, unknown>, this.#table);
  }

  /** Keys whose states are in memory (or being read back). */
  get size(): number {
    return this.#table.slots.size;
  }

  /** True when `key`'s state is in memory (or being read back from the store). */
  has(key: KeyedKey): boolean {
    return this.#table.slots.has(key);
  }

  /** The last seq applied to `key`'s state in memory, or undefined when it is not in memory. */
  seqOf(key: KeyedKey): number | undefined {
    const slot = this.#table.slots.get(key);
    return slot === undefined || slot.status === LOADING ? undefined : slot.seq;
  }

  /**
   * A copy of `key`'s state [stateSize] in memory (the model's layout for one batch row), or
   * undefined when it is not in memory (in the store, being read back, or never seen).
   */
  stateOf(key: KeyedKey): Float32Array | undefined {
    const slot = this.#table.slots.get(key);
    if (slot === undefined || slot.status === LOADING) return undefined;
    const off = this.#table.offset(slot.row);
    return this.#table.chunk(slot.row).slice(off, off + this.model.stateSize);
  }

  /** The counters right now (see KeyedMetrics). */
  metrics(): KeyedMetrics {
    const t = this.#table;
    return {
      keysInMemory: t.slots.size,
      maxKeys: t.maxKeys,
      stateBytes: t.stateBytes,
      loading: t.loading,
      pendingEvents: t.listener?.pendingEvents ?? 0,
      waitingKeys: t.listener?.waitingKeys ?? 0,
      events: t.events,
      outputs: t.outputs,
      failures: t.failures,
      duplicates: t.duplicates,
      batches: t.batches,
      batchMean: t.batches === 0 ? 0 : t.batchRows / t.batches,
      batchSizes: [...t.batchSizes].sort((a, b) => a[0] - b[0]).map(([size, count]) => ({ size, count })),
      evictions: t.evictions,
      idleEvictions: t.idleEvictions,
      restores: t.restores,
      freshKeys: t.freshKeys,
      writesInFlight: t.writesInFlight,
      storeReads: t.storeReads,
      storeWrites: t.storeWrites,
      storeDeletes: t.storeDeletes,
      latencyMs: t.latency.summary(),
    };
  }

  /**
   * Puts every key in memory into the store (its state, seq and extra data as of now: between
   * two batches, so consistent; a key unchanged since it was stored is not put again) and
   * resolves with the count of keys in memory once the store holds them all,
   * along with every eviction started before. A new KeyedStates over the same store then goes on
   * exactly where this one stood, each key as it returns. The keys stay in memory.
   * @throws (rejects) the store's failure, or the earlier one that lost a state.
   */
  checkpoint(): Promise<number> {
    return this.#table.checkpoint();
  }

  /**
   * Forgets `key`: its state in memory, its queued events (dropped without answers) and its
   * snapshot in the store. Resolves once the store has deleted it. Its next event starts fresh.
   * @throws TypeError unless key is a string or a finite number; rejects on a store failure.
   */
  delete(key: KeyedKey): Promise<void> {
    try {
      StateTable.checkKey(key);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#table.delete(key);
  }

  /** "KeyedStates(an lstm char model (V 65, H 256, 2 layers), 12 of 10000 keys)". */
  toString(): string {
    return `KeyedStates(${this.model.description}, ${this.size} of ${this.maxKeys} keys)`;
  }
}

/** A KeyedStates of `model` (keyedCell(), keyedCharModel()) with the given bounds and store. */
export function createKeyedStates<V, O>(model: KeyedModel<V, O>, options: KeyedStatesOptions = {}): KeyedStates<V, O> {
  return new KeyedStates(model, options);
}
