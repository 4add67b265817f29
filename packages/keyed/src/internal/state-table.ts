// The table of keys in memory: one row of the state arena per key (at most maxKeys rows, cut in
// chunks as keys arrive), least-recently-used order of the idle keys, eviction into the StateStore
// and loading back from it, with the store's operations on one key kept in order. Owns the arena
// and the counters; the attached subscription (a TableListener) owns the event queues' handling.
import type { KeyedModel } from '../keyed-model.js';
import { LatencyRing } from '../metrics.js';
import type { StateStore } from '../state-store.js';
import type { KeyedKey } from '../types.js';
import { describe, showKey } from './checks.js';
import { Fifo } from './fifo.js';
import { RecordCodec } from './record.js';

/** An event waiting for its key's turn; `error` is set when its value was refused on arrival. */
export interface Pending {
  value: unknown;
  seq: number | undefined;
  /** performance.now() at arrival (for the latency metrics). */
  t: number;
  error: Error | undefined;
}

export const LOADING = 0;
export const BUSY = 1;
export const IDLE = 2;

/** One key in memory. */
export class Slot {
  readonly key: KeyedKey;
  readonly row: number;
  /** The row's state in the arena, block by block ([segment] floats each): what batches copy. */
  readonly blocks: Float32Array[];
  /** The last seq applied to the state (0: none yet). */
  seq = 0;
  /**
   * The seq of the snapshot the store holds for this key, or will hold once the writes started
   * so far end (−1: none). Every change of a state advances its seq, so a slot with
   * seq === storedSeq has nothing new to put.
   */
  storedSeq = -1;
  extra: unknown = null;
  /** LOADING (its snapshot is on its way), BUSY (events queued or in a batch), IDLE (evictable). */
  status = LOADING;
  readonly queue = new Fifo<Pending>();
  inReady = false;
  /** Forgotten (KeyedStates.delete) while queued or loading: skip it. */
  deleted = false;
  /** Scheduler time at which the key last became idle. */
  lastUsed = 0;
  prev: Slot | null = null;
  next: Slot | null = null;

  constructor(key: KeyedKey, row: number, blocks: Float32Array[]) {
    this.key = key;
    this.row = row;
    this.blocks = blocks;
  }
}

/** The subscription attached to a table: told about loads, deletions and failures. */
export interface TableListener {
  /** Events queued and not answered yet; keys waiting for a row. */
  readonly pendingEvents: number;
  readonly waitingKeys: number;
  /** Scheduler time. */
  now(): number;
  /** `slot` finished loading (BUSY when it has queued events, else IDLE). */
  onLoaded(slot: Slot): void;
  /** `slot` (or, when null, the key's waiting events) was forgotten by KeyedStates.delete. */
  onDeleted(key: KeyedKey, slot: Slot | null): void;
  /** A store or snapshot failure: the subscription errors. */
  onFailure(error: Error): void;
  /** A store write ended: keys waiting for a row may fit now. */
  onRoom(): void;
}

interface Write {
  /** What the store will hold once done: snapshot bytes, or null for a delete. */
  bytes: Uint8Array | null;
  done: Promise<void>;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

export class StateTable {
  readonly model: KeyedModel<unknown, unknown>;
  readonly maxKeys: number;
  readonly idleMs: number;
  readonly store: StateStore;
  readonly slots = new Map<KeyedKey, Slot>();
  readonly codec: RecordCodec;
  /** State rows per chunk (a power of two) and the arena chunks. */
  readonly #shift: number;
  readonly #chunks: Float32Array[] = [];
  #rows = 0;
  readonly #free: number[] = [];
  readonly #blocks: Float32Array[][] = [];
  // The idle keys, least recently used first.
  #idleHead: Slot | null = null;
  #idleTail: Slot | null = null;
  readonly #writing = new Map<KeyedKey, Write>();
  /** A lost state (a store write failed): the table refuses all further work. */
  poisoned: Error | null = null;
  listener: TableListener | null = null;
  // Counters (KeyedMetrics).
  loading = 0;
  events = 0;
  outputs = 0;
  failures = 0;
  duplicates = 0;
  batches = 0;
  batchRows = 0;
  readonly batchSizes = new Map<number, number>();
  evictions = 0;
  idleEvictions = 0;
  restores = 0;
  freshKeys = 0;
  storeReads = 0;
  storeWrites = 0;
  storeDeletes = 0;
  readonly latency = new LatencyRing();

  constructor(model: KeyedModel<unknown, unknown>, maxKeys: number, idleMs: number, store: StateStore) {
    this.model = model;
    this.maxKeys = maxKeys;
    this.idleMs = idleMs;
    this.store = store;
    this.codec = new RecordCodec(model);
    // Chunks of up to 1024 rows: memory follows the keys seen, up to maxKeys rows.
    this.#shift = Math.min(10, Math.ceil(Math.log2(maxKeys)));
  }

  /** The arena chunk holding `row`, and the row's first float in it. */
  chunk(row: number): Float32Array {
    return this.#chunks[row >>> this.#shift]!;
  }
  offset(row: number): number {
    return (row & ((1 << this.#shift) - 1)) * this.model.stateSize;
  }

  /** Views of `row`'s blocks, made once per row and reused by every key that holds the row. */
  #blocksOf(row: number): Float32Array[] {
    let blocks = this.#blocks[row];
    if (blocks === undefined) {
      const H = this.model.segment;
      const chunk = this.chunk(row);
      const off = this.offset(row);
      blocks = Array.from({ length: this.model.stateSize / H }, (_, j) =>
        chunk.subarray(off + j * H, off + (j + 1) * H),
      );
      this.#blocks[row] = blocks;
    }
    return blocks;
  }

  get stateBytes(): number {
    return this.#chunks.length * (1 << this.#shift) * this.model.stateSize * 4;
  }

  /**
   * True when admit() would find a row: a free one, a new one, or an idle key's — evicting only
   * while fewer than maxKeys snapshots are on their way to the store (a slow store holds new keys
   * back instead of letting snapshots pile up in memory).
   */
  hasRoom(): boolean {
    return (
      this.#free.length > 0 ||
      this.#rows < this.maxKeys ||
      (this.#idleHead !== null && this.#writing.size < this.maxKeys)
    );
  }

  /** Store operations started and not ended yet. */
  get writesInFlight(): number {
    return this.#writing.size;
  }

  /** A free row, or −1 when every row holds a key that is not idle (evicts the LRU idle key). */
  #takeRow(): number {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    if (this.#rows < this.maxKeys) {
      const row = this.#rows++;
      if (row >>> this.#shift >= this.#chunks.length) {
        this.#chunks.push(new Float32Array((1 << this.#shift) * this.model.stateSize));
      }
      return row;
    }
    const victim = this.#idleHead;
    if (victim === null || this.#writing.size >= this.maxKeys) return -1;
    this.evict(victim, false);
    return this.#free.pop()!;
  }

  /**
   * A slot for `key` holding `events`, or null when every row holds a busy key. Starts reading
   * the key's snapshot; a synchronous store finishes before this returns (listener.onLoaded).
   */
  admit(key: KeyedKey, events: readonly Pending[]): Slot | null {
    const row = this.#takeRow();
    if (row < 0) return null;
    const slot = new Slot(key, row, this.#blocksOf(row));
    for (const p of events) slot.queue.push(p);
    this.slots.set(key, slot);
    this.loading++;
    const w = this.#writing.get(key);
    if (w !== undefined) {
      // Its latest snapshot is still on its way to the store: take it from there, bit for bit.
      this.#loaded(slot, w.bytes ?? undefined);
      return slot;
    }
    let got: unknown;
    try {
      this.storeReads++;
      got = this.store.get(key);
    } catch (e) {
      this.#loadFailed(slot, storeError('get', key, e));
      return slot;
    }
    if (isThenable(got)) {
      got.then(
        (bytes) => this.#loaded(slot, bytes),
        (e: unknown) => this.#loadFailed(slot, storeError('get', key, e)),
      );
    } else this.#loaded(slot, got);
    return slot;
  }

  #loaded(slot: Slot, bytes: unknown): void {
    this.loading--;
    if (slot.deleted) {
      this.#free.push(slot.row);
      return;
    }
    const state = this.chunk(slot.row);
    const off = this.offset(slot.row);
    const row = state.subarray(off, off + this.model.stateSize);
    try {
      if (bytes === undefined) {
        row.fill(0);
        slot.seq = 0;
        slot.extra = this.model.createExtra(slot.key);
        this.freshKeys++;
      } else {
        const r = this.codec.decode(bytes, slot.key, row);
        slot.seq = r.seq;
        slot.storedSeq = r.seq;
        slot.extra = r.extra;
        this.restores++;
      }
    } catch (e) {
      this.slots.delete(slot.key);
      this.#free.push(slot.row);
      this.listener?.onFailure(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (slot.queue.length > 0 && this.listener !== null) slot.status = BUSY;
    else {
      slot.queue.clear();
      this.idle(slot, this.listener?.now() ?? 0);
    }
    this.listener?.onLoaded(slot);
  }

  #loadFailed(slot: Slot, error: Error): void {
    this.loading--;
    if (this.slots.get(slot.key) === slot) this.slots.delete(slot.key);
    this.#free.push(slot.row);
    if (!slot.deleted) this.listener?.onFailure(error);
  }

  /** Marks `slot` idle (evictable), the most recently used. */
  idle(slot: Slot, now: number): void {
    slot.status = IDLE;
    slot.lastUsed = now;
    slot.prev = this.#idleTail;
    slot.next = null;
    if (this.#idleTail !== null) this.#idleTail.next = slot;
    else this.#idleHead = slot;
    this.#idleTail = slot;
  }

  /** Takes an idle `slot` out of the idle list: it is BUSY now. */
  busy(slot: Slot): void {
    this.#unlink(slot);
    slot.status = BUSY;
  }

  #unlink(slot: Slot): void {
    if (slot.prev !== null) slot.prev.next = slot.next;
    else this.#idleHead = slot.next;
    if (slot.next !== null) slot.next.prev = slot.prev;
    else this.#idleTail = slot.prev;
    slot.prev = null;
    slot.next = null;
  }

  /** Snapshots an idle key into the store (when it changed since it was stored) and frees its row. */
  evict(slot: Slot, forIdle: boolean): void {
    const bytes = this.#changed(slot);
    this.#unlink(slot);
    this.slots.delete(slot.key);
    this.#free.push(slot.row);
    this.evictions++;
    if (forIdle) this.idleEvictions++;
    if (bytes !== null) this.#write(slot.key, bytes);
  }

  /**
   * The snapshot to put for `slot`, or null when the store holds (or is being given) its state
   * as it is: a key restored and evicted again with nothing new, a checkpoint of a key unchanged
   * since the last one.
   */
  #changed(slot: Slot): Uint8Array | null {
    if (slot.seq === slot.storedSeq) return null;
    slot.storedSeq = slot.seq;
    return this.#encode(slot);
  }

  /** Evicts the keys idle for idleMs or longer at scheduler time `now`. */
  sweepIdle(now: number): void {
    while (this.#idleHead !== null && now - this.#idleHead.lastUsed >= this.idleMs) this.evict(this.#idleHead, true);
  }

  /** Scheduler time at which the least recently used idle key reaches idleMs, or Infinity. */
  nextIdleDeadline(): number {
    return this.#idleHead === null ? Infinity : this.#idleHead.lastUsed + this.idleMs;
  }

  #encode(slot: Slot): Uint8Array {
    const off = this.offset(slot.row);
    return this.codec.encode(
      slot.key,
      slot.seq,
      this.chunk(slot.row).subarray(off, off + this.model.stateSize),
      slot.extra,
    );
  }

  /** Puts `bytes` for `key` (null: deletes it) after the key's earlier store operations. */
  #write(key: KeyedKey, bytes: Uint8Array | null): void {
    const op = (): unknown => {
      if (bytes === null) {
        this.storeDeletes++;
        return this.store.delete(key);
      }
      this.storeWrites++;
      return this.store.put(key, bytes);
    };
    const prev = this.#writing.get(key);
    let pending: Promise<unknown>;
    if (prev === undefined) {
      let r: unknown;
      try {
        r = op();
      } catch (e) {
        this.#lost(storeError(bytes === null ? 'delete' : 'put', key, e));
        return;
      }
      if (!isThenable(r)) return;
      pending = Promise.resolve(r);
    } else pending = prev.done.then(op);
    const entry: Write = { bytes, done: Promise.resolve() };
    entry.done = pending.then(
      () => {
        if (this.#writing.get(key) === entry) this.#writing.delete(key);
        // A snapshot fewer on its way: keys held back for it may come in now.
        this.listener?.onRoom();
      },
      (e: unknown) => {
        if (this.#writing.get(key) === entry) this.#writing.delete(key);
        this.#lost(storeError(bytes === null ? 'delete' : 'put', key, e));
      },
    );
    this.#writing.set(key, entry);
  }

  /** A store write failed: a state may be lost, so nothing may go on from this table. */
  #lost(error: Error): void {
    this.poisoned ??= error;
    this.listener?.onFailure(error);
  }

  /** Resolves when every store operation started so far has ended (rejects if one failed). */
  async settled(): Promise<void> {
    while (this.#writing.size > 0) await Promise.all([...this.#writing.values()].map((w) => w.done));
    if (this.poisoned) throw this.poisoned;
  }

  /**
   * Puts every key in memory (not loading) that changed since it was stored; resolves with the
   * count of keys in memory (all of them are in the store then).
   */
  async checkpoint(): Promise<number> {
    if (this.poisoned) throw this.poisoned;
    let n = 0;
    for (const slot of this.slots.values()) {
      if (slot.status === LOADING) continue;
      const bytes = this.#changed(slot);
      if (bytes !== null) this.#write(slot.key, bytes);
      n++;
    }
    await this.settled();
    return n;
  }

  /** Forgets `key`: its state in memory, its queued events, its snapshot in the store. */
  async delete(key: KeyedKey): Promise<void> {
    if (this.poisoned) throw this.poisoned;
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.slots.delete(key);
      slot.deleted = true;
      if (slot.status === IDLE) this.#unlink(slot);
      // A loading slot's row is freed when its read ends (the read writes into it).
      if (slot.status !== LOADING) this.#free.push(slot.row);
    }
    this.listener?.onDeleted(key, slot ?? null);
    slot?.queue.clear();
    this.#write(key, null);
    await this.#writing.get(key)?.done;
    if (this.poisoned) throw this.poisoned;
  }

  /** Throws unless `key` is a string or a finite number. */
  static checkKey(key: unknown): asserts key is KeyedKey {
    if (!(typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key)))) {
      throw new TypeError(`keyed: key must be a string or a finite number, got ${describe(key)}`);
    }
  }
}

function storeError(op: string, key: KeyedKey, e: unknown): Error {
  const why = e instanceof Error ? e.message : String(e);
  return new Error(`keyed: state store ${op}(${showKey(key)}) failed: ${why}`, { cause: e });
}
