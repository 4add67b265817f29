// DirectoryStateStore (@rxrnn/keyed/node): files per key that a second process reads back, names
// that round-trip string and number keys, temp files of an unfinished put ignored, keys too long
// for a file name refused; the engine over it evicting and restoring exactly, and a damaged file
// refused by its checksum. Everything under a temp folder removed afterwards.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeyedStates, DirectoryStateStore, type KeyedOutput, keyed, keyedCharModel } from '../src/node.js';
import { bits, loneLogits, maxAbsDiff, resultsPerKey, smallCharModel, tokenEvents } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'rxrnn-keyed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `store-${n++}`);

/** Every file under a store folder, relative. */
const files = (dir: string) =>
  readdirSync(dir).flatMap((shard) => readdirSync(join(dir, shard)).map((f) => join(shard, f)));

describe('DirectoryStateStore', () => {
  it('keeps bytes per key in files another instance reads back, and lists the keys', () => {
    const dir = fresh();
    const a = new DirectoryStateStore(dir);
    const keys = ['user/1', 'ünïcödé ✓', '', 42, -1.5, 1e21, '../../etc/passwd'];
    keys.forEach((k, i) => a.put(k, Uint8Array.of(i, 255 - i)));
    const b = new DirectoryStateStore(dir);
    keys.forEach((k, i) => expect(Array.from(b.get(k)!)).toEqual([i, 255 - i]));
    expect(b.get('42')).toBeUndefined(); // the string "42" is not the number 42
    expect(new Set(b.keys())).toEqual(new Set(keys));
    b.delete(42);
    b.delete('never there');
    expect(a.get(42)).toBeUndefined();
    // Every file stays inside the folder, one subfolder deep.
    expect(files(dir)).toHaveLength(keys.length - 1);
    for (const f of files(dir)) expect(f).toMatch(/^[0-9a-f]{2}\/[sn][A-Za-z0-9_-]*\.rxks$/);
  });

  it('replaces a file atomically and ignores a temp file an interrupted put left behind', () => {
    const dir = fresh();
    const s = new DirectoryStateStore(dir, { fsync: true });
    s.put('k', Uint8Array.of(1));
    s.put('k', Uint8Array.of(2, 3));
    expect(Array.from(s.get('k')!)).toEqual([2, 3]);
    const [only] = files(dir);
    writeFileSync(join(dir, `${only!}.tmp-999-0`), 'half');
    expect([...s.keys()]).toEqual(['k']);
  });

  it('refuses a key too long for a file name, and bad arguments', () => {
    const s = new DirectoryStateStore(fresh());
    expect(() => s.put('x'.repeat(181), Uint8Array.of(1))).toThrow(
      /^DirectoryStateStore: key "x{40}…" must be at most 180 bytes of UTF-8 to fit in a file name, got 181$/,
    );
    expect(() => s.put('k', 'bytes' as never)).toThrow(
      /^DirectoryStateStore.put: bytes must be a Uint8Array, got "bytes"$/,
    );
    expect(() => new DirectoryStateStore('')).toThrow(/^DirectoryStateStore: dir must be a folder path, got ""$/);
  });

  it('under keyed(): evicts to files and restores exactly; a new process goes on after a checkpoint', async () => {
    const dir = fresh();
    const model = smallCharModel('lstm');
    const events = tokenEvents(400, 20, 12);
    const first = createKeyedStates(keyedCharModel(model), { maxKeys: 3, store: new DirectoryStateStore(dir) });
    const head = await lastValueFrom(from(events.slice(0, 200)).pipe(keyed(first, { maxBatch: 1 }), toArray()));
    expect(first.metrics().restores).toBeGreaterThan(50);
    await first.checkpoint();
    const second = createKeyedStates(keyedCharModel(model), { maxKeys: 3, store: new DirectoryStateStore(dir) });
    const tail = await lastValueFrom(from(events.slice(200)).pipe(keyed(second, { maxBatch: 1 }), toArray()));
    const whole = await lastValueFrom(from(events).pipe(keyed(keyedCharModel(model), { maxBatch: 1 }), toArray()));
    const split = [...head, ...tail];
    expect(split.map((r) => `${r.key}${r.seq}`)).toEqual(whole.map((r) => `${r.key}${r.seq}`));
    split.forEach((r, i) =>
      expect(bits((r as KeyedOutput<Float32Array, string>).output)).toEqual(
        bits((whole[i] as KeyedOutput<Float32Array, string>).output),
      ),
    );
    const want = loneLogits(model, events);
    for (const [key, rs] of resultsPerKey(split)) {
      expect(
        maxAbsDiff(
          rs.map((r) => (r as KeyedOutput<Float32Array, string>).output),
          want.get(key)!,
        ),
      ).toBe(0);
    }
  });

  it('a damaged file errors the stream with the checksum it failed', async () => {
    const dir = fresh();
    const model = smallCharModel('lstm');
    const states = createKeyedStates(keyedCharModel(model), { store: new DirectoryStateStore(dir) });
    await lastValueFrom(from([{ key: 'a', value: 1 }]).pipe(keyed(states), toArray()));
    await states.checkpoint();
    const [file] = files(dir);
    const bytes = readFileSync(join(dir, file!));
    bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 4;
    writeFileSync(join(dir, file!), bytes);
    const again = createKeyedStates(keyedCharModel(model), { store: new DirectoryStateStore(dir) });
    const error = await lastValueFrom(from([{ key: 'a', value: 2 }]).pipe(keyed(again), toArray())).catch((e) => e);
    expect(String(error)).toMatch(
      /^RangeError: keyed: snapshot of key "a": checksum \d+, expected \d+ \(the bytes are damaged\)$/,
    );
  });
});
