// Where evicted keys' states go: the StateStore contract (get/put/delete by key, optionally a
// listing), and the in-memory store with whole-store snapshot bytes. A store keeps the bytes it is
// given as they are; it never reads inside them (the engine validates what comes back).
import { Packr } from 'msgpackr';
import { describe, showKey } from './internal/checks.js';
import { crc32 } from './internal/crc32.js';
import type { KeyedKey } from './types.js';

/** A value or a promise of it: a store may answer at once (memory, local files) or later (network). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Keeps the snapshots of keys that are not in memory. The keyed engine puts a key's snapshot
 * when it evicts the key (least recently used past `maxKeys`, or idle for `idleMs`) and at a
 * checkpoint — only when the state changed since it was last put or got — gets it back when the key returns, and deletes it when told to forget the key.
 * A store that answers synchronously keeps the engine synchronous (a key that returns is stepped
 * in the same tick); one that returns promises is fine too (the key's events wait for it). The
 * engine orders the operations on one key (a put is not started before the previous one ended).
 * A rejection or throw errors the stream: a state that cannot be stored or read is never
 * replaced by a silent fresh one.
 */
export interface StateStore {
  /** The bytes last put for `key`, or undefined when there are none. */
  get(key: KeyedKey): MaybePromise<Uint8Array | undefined>;
  /** Keeps `bytes` for `key`, replacing what was there. The engine never changes them afterwards. */
  put(key: KeyedKey, bytes: Uint8Array): MaybePromise<void>;
  /** Forgets `key` (nothing happens when it is absent). */
  delete(key: KeyedKey): MaybePromise<void>;
  /** Every key held, in no particular order (optional: for tools, migrations and listings). */
  keys?(): Iterable<KeyedKey> | AsyncIterable<KeyedKey>;
}

/** Format tag and version of MemoryStateStore.snapshot() bytes. */
const STORE_FORMAT = 'rxrnn/keyed-store';
const STORE_VERSION = 1;
const packr = new Packr({ moreTypes: true, useRecords: false });

/**
 * A StateStore in a Map: synchronous, and as large as the keys it holds (bound your memory
 * with a directory store, `@rxrnn/keyed/node`, or your own). `snapshot()` and `restore()` move
 * the whole store as bytes, so a deploy that checkpoints first loses no conversation.
 *
 * @example
 * const store = new MemoryStateStore();
 * const states = createKeyedStates(keyedCharModel(model), { maxKeys: 1000, store });
 * // ... later, before shutting down:
 * await states.checkpoint();          // every key in memory into the store
 * writeFileSync('keys.bin', store.snapshot());
 * // ... in the next process:
 * const again = MemoryStateStore.fromSnapshot(readFileSync('keys.bin'));
 */
export class MemoryStateStore implements StateStore {
  readonly #map = new Map<KeyedKey, Uint8Array>();

  /** Keys held. */
  get size(): number {
    return this.#map.size;
  }

  get(key: KeyedKey): Uint8Array | undefined {
    return this.#map.get(key);
  }

  put(key: KeyedKey, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`MemoryStateStore.put: bytes must be a Uint8Array, got ${describe(bytes)}`);
    }
    this.#map.set(key, bytes);
  }

  delete(key: KeyedKey): void {
    this.#map.delete(key);
  }

  keys(): IterableIterator<KeyedKey> {
    return this.#map.keys();
  }

  /**
   * Every key and its bytes as one msgpack document (format tag `rxrnn/keyed-store`, version,
   * CRC-32 of the body).
   */
  snapshot(): Uint8Array {
    // Copies (new Uint8Array; Buffer#slice would be a view of msgpackr's working buffer).
    const body = new Uint8Array(packr.pack({ entries: [...this.#map] }));
    return new Uint8Array(packr.pack({ format: STORE_FORMAT, version: STORE_VERSION, crc: crc32(body), body }));
  }

  /**
   * Replaces the contents with snapshot() bytes.
   * @throws RangeError naming what is wrong (format, version, checksum, an entry); the store is
   *   unchanged then.
   */
  restore(bytes: Uint8Array): void {
    const where = 'MemoryStateStore.restore';
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`${where}: bytes must be a Uint8Array from snapshot(), got ${describe(bytes)}`);
    }
    const outer = unpackObject(where, bytes);
    if (outer.format !== STORE_FORMAT)
      throw new RangeError(`${where}: format ${describe(outer.format)}, expected "${STORE_FORMAT}"`);
    if (outer.version !== STORE_VERSION)
      throw new RangeError(`${where}: version ${describe(outer.version)}, expected ${STORE_VERSION}`);
    const body = outer.body;
    if (!(body instanceof Uint8Array)) throw new RangeError(`${where}: body ${describe(body)}, expected bytes`);
    const crc = crc32(body);
    if (outer.crc !== crc) {
      throw new RangeError(`${where}: checksum ${describe(outer.crc)}, expected ${crc} (the bytes are damaged)`);
    }
    const entries = unpackObject(where, body).entries;
    if (!Array.isArray(entries)) throw new RangeError(`${where}: entries ${describe(entries)}, expected a list`);
    const map = new Map<KeyedKey, Uint8Array>();
    entries.forEach((e: unknown, i) => {
      const [key, value] = Array.isArray(e) && e.length === 2 ? (e as [unknown, unknown]) : [undefined, undefined];
      if (!(typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key)))) {
        throw new RangeError(`${where}: entry ${i} key ${describe(key)}, expected a string or a finite number`);
      }
      if (!(value instanceof Uint8Array)) {
        throw new RangeError(`${where}: entry ${i} (key ${showKey(key)}) holds ${describe(value)}, expected bytes`);
      }
      if (map.has(key)) throw new RangeError(`${where}: key ${showKey(key)} appears twice`);
      map.set(key, value);
    });
    this.#map.clear();
    for (const [k, v] of map) this.#map.set(k, v);
  }

  /** A store holding what snapshot() bytes hold (see restore()). */
  static fromSnapshot(bytes: Uint8Array): MemoryStateStore {
    const store = new MemoryStateStore();
    store.restore(bytes);
    return store;
  }
}

function unpackObject(where: string, bytes: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch (e) {
    throw new RangeError(`${where}: unreadable bytes (${(e as Error).message}), expected a keyed store snapshot`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new RangeError(`${where}: ${describe(v)}, expected a keyed store snapshot`);
  }
  return v as Record<string, unknown>;
}
