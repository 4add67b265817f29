// The keyed engine's state store for one partition, in the deployment's state KV bucket: key k's
// snapshot lives at `k.<p>.<kvToken(k)>` as a KeyRecord. Every write is a compare-and-set on the
// revision this owner last read or wrote, so a stale owner (one whose lease moved on) can never
// overwrite what the new owner wrote; a write also waits until every output published so far is
// stored, so no stored state is ahead of the outputs it implies.
import type { KV } from '@nats-io/kv';
import { CasConflict, casWrite } from './internal/cas.js';
import { describe } from './internal/checks.js';
import { isApiError, retry, WRONG_LAST_SEQUENCE } from './internal/retry.js';
import { kvToken } from './partition.js';
import { decodeKeyRecord, encodeKeyRecord } from './records.js';

/** KV key of `key`'s state in partition p. */
export const keyStateKey = (p: number, key: string): string => `k.${p}.${kvToken(key)}`;

/** Counters of a {@link KvStateStore}. */
export interface StoreCounts {
  /** KV reads (keys restored or looked up). */
  reads: number;
  /** KV writes (states stored). */
  writes: number;
  /** Keys whose KV revision this owner remembers (in memory, or being written). */
  revisions: number;
}

/** What happened when a write found another writer's revision: this owner is fenced. */
export class FencedError extends Error {
  /** `'FencedError'`. */
  override readonly name = 'FencedError';
}

/** Options of {@link KvStateStore}. */
export interface KvStateStoreOptions {
  /** The deployment's state bucket. */
  state: KV;
  /** The partition whose keys it holds. */
  partition: number;
  /** sha256 hex of the worker's model. */
  model: string;
  /**
   * This owner: `<worker id>#<epoch>` of its takeover, written into every record, so that a
   * record this owner wrote and forgot the revision of (the key left memory and came back
   * without a read) is told from another writer's.
   */
  writer: string;
  /**
   * What to do with a stored state written under another model: 'refuse' (default) fails the
   * key's read — the worker stops the partition — and 'keep' carries the state over (same shapes
   * are required by the engine's own snapshot check).
   */
  onModelChange?: 'refuse' | 'keep';
  /** Resolves when every output published so far is stored (the outputs' barrier()). */
  beforeWrite: () => Promise<void>;
  /** True while the engine holds `key` in memory (a key that left it has its revision forgotten). */
  inMemory: (key: string) => boolean;
  /** Throws when this worker may no longer write for the partition (its lease moved on). */
  checkOwner: () => void;
  /** Deadline of one KV request through transient failures, ms. Default 30000. */
  retryMs?: number;
}

/**
 * A StateStore (get/put/delete by key, asynchronous) over the state KV bucket, for the keys of
 * one partition. Every put is written (the keyed engine puts a state only when it changed).
 */
export class KvStateStore {
  readonly #o: Required<KvStateStoreOptions>;
  /**
   * KV revision of each key read or written by this owner (0: the key has no entry), kept while
   * the key is in memory or being written; forgotten after (a key that returns is read again,
   * and a revision of this owner's own write is recovered from the record's writer).
   */
  readonly #revision = new Map<string, number>();
  /** Puts in flight per key. */
  readonly #putting = new Map<string, number>();
  /** #revision size at which keys that left memory are forgotten (amortized). */
  #pruneAt = 1024;
  #reads = 0;
  #writes = 0;

  /** A store for the keys of `options.partition` (see {@link KvStateStoreOptions}). */
  constructor(options: KvStateStoreOptions) {
    this.#o = { onModelChange: 'refuse', retryMs: 30_000, ...options };
  }

  /** KV reads and writes so far, and revisions remembered. */
  get counts(): StoreCounts {
    return { reads: this.#reads, writes: this.#writes, revisions: this.#revision.size };
  }

  /**
   * The snapshot stored for `key`, or undefined when there is none. Throws when the stored value
   * is not a key record of this key and partition, or belongs to another model (unless
   * `onModelChange` is 'keep').
   */
  async get(key: string | number): Promise<Uint8Array | undefined> {
    const k = this.#key(key);
    const name = keyStateKey(this.#o.partition, k);
    const entry = await retry(() => this.#o.state.get(name), { deadlineMs: this.#o.retryMs });
    this.#reads++;
    if (this.#revision.size >= this.#pruneAt) this.#prune();
    if (entry?.operation !== 'PUT') {
      this.#revision.set(k, entry?.revision ?? 0);
      return undefined;
    }
    const record = decodeKeyRecord(entry.value, `KV ${name}`, k);
    if (record.partition !== this.#o.partition) {
      throw new Error(`KV ${name}: record of partition ${record.partition}, expected ${this.#o.partition}`);
    }
    if (record.model !== this.#o.model && this.#o.onModelChange === 'refuse') {
      throw new Error(
        `KV ${name}: state of model sha256:${record.model}, this worker runs sha256:${this.#o.model} (start workers with onModelChange 'keep' to carry states over)`,
      );
    }
    this.#revision.set(k, entry.revision);
    return record.snapshot;
  }

  /**
   * Stores `bytes` as `key`'s snapshot once the outputs published so far are stored, by
   * compare-and-set. Throws a FencedError when this worker no longer owns the partition.
   */
  async put(key: string | number, bytes: Uint8Array): Promise<void> {
    const k = this.#key(key);
    if (!(bytes instanceof Uint8Array))
      throw new TypeError(`KvStateStore.put: bytes must be a Uint8Array, got ${describe(bytes)}`);
    this.#putting.set(k, (this.#putting.get(k) ?? 0) + 1);
    try {
      await this.#write(k, bytes);
    } finally {
      const n = this.#putting.get(k)! - 1;
      if (n === 0) this.#putting.delete(k);
      else this.#putting.set(k, n);
    }
  }

  async #write(k: string, bytes: Uint8Array): Promise<void> {
    await this.#o.beforeWrite();
    this.#o.checkOwner();
    const name = keyStateKey(this.#o.partition, k);
    const value = encodeKeyRecord({
      key: k,
      partition: this.#o.partition,
      model: this.#o.model,
      writer: this.#o.writer,
      snapshot: bytes,
    });
    let known = this.#revision.get(k);
    let revision: number;
    for (let attempt = 0; ; attempt++) {
      try {
        revision = await casWrite(this.#o.state, name, value, known ?? 0, this.#o.retryMs);
        break;
      } catch (e) {
        if (!(e instanceof CasConflict)) throw e;
        // A revision this owner forgot (the key left memory and came back through the engine
        // without a read) is still its own when the stored record says so.
        const mine = known === undefined && attempt === 0 ? await this.#ownRevision(name, k) : undefined;
        if (mine === undefined) {
          throw new FencedError(
            `KV ${name}: written by another worker since revision ${known ?? 0}: this worker no longer owns partition ${this.#o.partition}`,
          );
        }
        known = mine;
      }
    }
    this.#writes++;
    // An evicted key is read again (with its revision) when it returns.
    if (this.#o.inMemory(k) || this.#putting.get(k)! > 1) this.#revision.set(k, revision);
    else this.#revision.delete(k);
  }

  /** Forgets the revisions of keys neither in memory nor being written (read, then evicted unchanged). */
  #prune(): void {
    for (const k of this.#revision.keys()) {
      if (!this.#o.inMemory(k) && !this.#putting.has(k)) this.#revision.delete(k);
    }
    this.#pruneAt = Math.max(1024, 2 * this.#revision.size);
  }

  /** The revision of the stored record when this owner wrote it, else undefined. */
  async #ownRevision(name: string, key: string): Promise<number | undefined> {
    const entry = await retry(() => this.#o.state.get(name), { deadlineMs: this.#o.retryMs });
    if (entry?.operation !== 'PUT') return undefined;
    try {
      return decodeKeyRecord(entry.value, `KV ${name}`, key).writer === this.#o.writer ? entry.revision : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Deletes the key's stored state (a later get gives undefined), by compare-and-set on the
   * revision this owner read or wrote; a key it never read is read first, whoever wrote it (a
   * previous owner's state is this owner's to delete, as get() would have taken it).
   */
  async delete(key: string | number): Promise<void> {
    const k = this.#key(key);
    const name = keyStateKey(this.#o.partition, k);
    let known = this.#revision.get(k);
    if (known === undefined) {
      const entry = await retry(() => this.#o.state.get(name), { deadlineMs: this.#o.retryMs });
      this.#reads++;
      known = entry?.operation === 'PUT' ? entry.revision : 0;
    }
    if (known === 0) return;
    await this.#o.beforeWrite();
    this.#o.checkOwner();
    try {
      await retry(() => this.#o.state.delete(name, { previousSeq: known }), { deadlineMs: this.#o.retryMs });
    } catch (e) {
      if (isApiError(e, WRONG_LAST_SEQUENCE) && (await this.#o.state.get(name))?.operation !== 'DEL') {
        throw new FencedError(
          `KV ${name}: written by another worker since revision ${known}: this worker no longer owns partition ${this.#o.partition}`,
        );
      }
      throw e;
    }
    this.#revision.set(k, 0);
  }

  #key(key: string | number): string {
    if (typeof key !== 'string')
      throw new TypeError(`KvStateStore: keys are strings (NATS subject tokens), got ${describe(key)}`);
    return key;
  }
}
