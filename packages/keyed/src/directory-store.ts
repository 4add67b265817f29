// DirectoryStateStore (Node only): one file per key under a folder, sharded into 256
// subfolders, written atomically (temp file in the same folder, then rename). The file name
// encodes the key (reversibly), so keys() lists without reading any file. Synchronous fs calls:
// a snapshot is a few KB, and a synchronous store keeps the engine stepping in the same tick.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { checkBoolean, describe, showKey } from './internal/checks.js';
import type { StateStore } from './state-store.js';
import type { KeyedKey } from './types.js';

/** Options of DirectoryStateStore. */
export interface DirectoryStateStoreOptions {
  /**
   * fsync each file and its folder before put() returns, so a stored snapshot survives a power
   * cut (costs a disk flush per put). Default false: the rename is atomic, so a reader sees the
   * old or the new snapshot, never a torn one; a power cut may lose recent puts (and a damaged
   * file is refused by its checksum when read back).
   */
  fsync?: boolean;
}

/** Longest key, in UTF-8 bytes, whose encoded name fits in a file name. */
const MAX_KEY_BYTES = 180;
const SUFFIX = '.rxks';

/**
 * A StateStore in a folder: memory stays flat however many keys it holds, and a new process
 * (or a new KeyedStates) on the same folder goes on from what the last one stored.
 *
 * @example
 * import { DirectoryStateStore, createKeyedStates, keyedCharModel } from '@rxrnn/keyed/node';
 * const states = createKeyedStates(keyedCharModel(model), { maxKeys: 10_000, store: new DirectoryStateStore('./keys') });
 * @throws TypeError on a bad folder or option; the folder is created when missing.
 */
export class DirectoryStateStore implements StateStore {
  /** The folder holding the files (created when missing). */
  readonly dir: string;
  readonly #fsync: boolean;
  readonly #shards = new Set<string>();
  #tmp = 0;

  /**
   * @param dir the folder, a non-empty string; created (with parents) when missing.
   * @param options `fsync` (default false).
   * @throws TypeError on a bad folder or option.
   */
  constructor(dir: string, options: DirectoryStateStoreOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new TypeError(`DirectoryStateStore: dir must be a folder path, got ${describe(dir)}`);
    }
    this.dir = dir;
    this.#fsync = checkBoolean('DirectoryStateStore', 'fsync', options.fsync ?? false);
    mkdirSync(dir, { recursive: true });
  }

  get(key: KeyedKey): Uint8Array | undefined {
    try {
      return readFileSync(this.#path(key).file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  put(key: KeyedKey, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`DirectoryStateStore.put: bytes must be a Uint8Array, got ${describe(bytes)}`);
    }
    const { shard, file } = this.#path(key);
    if (!this.#shards.has(shard)) {
      mkdirSync(shard, { recursive: true });
      this.#shards.add(shard);
    }
    const tmp = `${file}.tmp-${process.pid}-${this.#tmp++}`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      if (this.#fsync) fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, file);
    if (this.#fsync) {
      const dfd = openSync(shard, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    }
  }

  delete(key: KeyedKey): void {
    try {
      unlinkSync(this.#path(key).file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /** Every key with a file, read from the file names (temp files of unfinished puts skipped). */
  *keys(): IterableIterator<KeyedKey> {
    for (const shard of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of readdirSync(join(this.dir, shard))) {
        if (!name.endsWith(SUFFIX)) continue;
        const key = decodeName(name.slice(0, -SUFFIX.length));
        if (key !== undefined) yield key;
      }
    }
  }

  #path(key: KeyedKey): { shard: string; file: string } {
    const name = encodeName(key);
    const shard = join(this.dir, shardOf(name));
    return { shard, file: join(shard, `${name}${SUFFIX}`) };
  }
}

/** "s" + base64url(UTF-8 of a string key), or "n" + base64url of a number key's decimal form. */
function encodeName(key: KeyedKey): string {
  let text: string;
  let tag: string;
  if (typeof key === 'string') {
    tag = 's';
    text = key;
  } else if (typeof key === 'number' && Number.isFinite(key)) {
    tag = 'n';
    text = String(key);
  } else throw new TypeError(`DirectoryStateStore: key must be a string or a finite number, got ${describe(key)}`);
  const utf8 = Buffer.from(text, 'utf8');
  if (utf8.length > MAX_KEY_BYTES) {
    throw new RangeError(
      `DirectoryStateStore: key ${showKey(key)} must be at most ${MAX_KEY_BYTES} bytes of UTF-8 to fit in a file name, got ${utf8.length}`,
    );
  }
  return tag + utf8.toString('base64url');
}

function decodeName(name: string): KeyedKey | undefined {
  const text = Buffer.from(name.slice(1), 'base64url').toString('utf8');
  if (name[0] === 's') return text;
  if (name[0] === 'n') {
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Two hex digits of the name's FNV-1a hash: 256 subfolders keep each folder small. */
function shardOf(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return ((h >>> 24) & 0xff).toString(16).padStart(2, '0');
}
