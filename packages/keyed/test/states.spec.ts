// The per-key states behind keyed(): a bad event fails alone and leaves its key's state as it
// was; seq numbers and replays; memory bounded by maxKeys (counted, not measured); stores that
// answer later, keep one key's operations in order, fail or hand back damaged bytes; checkpoint
// and a second process on the same store; forgetting a key; the in-memory store's snapshot.
import { CharModel } from '@rxrnn/cells';
import { from, lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createKeyedStates,
  isKeyedFailure,
  type KeyedEvent,
  type KeyedOutput,
  type KeyedResult,
  keyed,
  keyedCharModel,
  MemoryStateStore,
  type StateStore,
  type TokenInput,
} from '../src/index.js';
import { bits, loneLogits, maxAbsDiff, resultsPerKey, SlowStore, smallCharModel, tokenEvents } from './helpers.js';

const model = smallCharModel('lstm');
const logitsOf = (rs: readonly KeyedResult<Float32Array | null, string>[]) =>
  rs.map((r) => (r as KeyedOutput<Float32Array, string>).output);

describe('bad events', () => {
  it('answer { key, seq, error } in the key’s order and leave its state as it was', async () => {
    const good = tokenEvents(300, 6, 11);
    const bad: [KeyedEvent<unknown, string>, RegExp][] = [
      [
        { key: 'k1', value: 11 },
        /^RangeError: keyed: token must be an integer in \[0, 11\), got 11 at step \d+ of key "k1"$/,
      ],
      [{ key: 'k2', value: Number.NaN }, /^RangeError: keyed: token must be an integer in \[0, 11\), got NaN at step/],
      [{ key: 'k0', value: 'a' }, /^TypeError: keyed: value must be a token id or \{ token, emit \}, got "a" at step/],
      [{ key: 'k3', value: { token: 2, emit: 1 } }, /^TypeError: keyed: emit must be a boolean, got 1 at step/],
      [{ key: 'k1', value: 2, seq: 0 }, /^RangeError: keyed: seq must be a positive integer, got 0 at step/],
    ];
    // Bad events spread through the stream.
    const events: KeyedEvent<unknown, string>[] = [...good];
    bad.forEach(([e], i) => events.splice(40 + 50 * i, 0, e));
    const results = (await lastValueFrom(
      from(events).pipe(keyed(keyedCharModel(model), { maxBatch: 8 }) as never, toArray()),
    )) as KeyedResult<Float32Array | null, string>[];
    const failures = results.filter(isKeyedFailure).map((f) => `${String(f.error)} (${f.key})`);
    expect(failures).toHaveLength(bad.length);
    for (const [e, m] of bad)
      expect(failures.filter((f) => m.test(f.replace(/ \(\w+\)$/, '')) && f.endsWith(`(${e.key})`))).toHaveLength(1);
    // The good events of every key match the lone oracle over the good events alone: the bad
    // ones changed no state. Their seqs count every event of the key, bad ones included.
    const want = loneLogits(model, good);
    for (const [key, rs] of resultsPerKey(results)) {
      expect(rs.map((r) => r.seq)).toEqual(rs.map((_, i) => i + 1));
      const outputs = rs.filter((r) => !isKeyedFailure(r));
      expect(maxAbsDiff(logitsOf(outputs), want.get(key)!)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('errors the stream instead with errors: "error", answering nothing of the failed batch', async () => {
    const s = new Subject<KeyedEvent<unknown, string>>();
    const got: unknown[] = [];
    let error: unknown;
    s.pipe(keyed(keyedCharModel(model), { errors: 'error', maxBatch: 4 }) as never).subscribe({
      next: (r) => got.push(r),
      error: (e) => (error = e),
    });
    s.next({ key: 'a', value: 1 });
    s.next({ key: 'b', value: 2 });
    s.next({ key: 'c', value: -1 });
    s.next({ key: 'd', value: 3 });
    expect(String(error)).toBe('RangeError: keyed: token must be an integer in [0, 11), got -1 at step 1 of key "c"');
    expect(got).toEqual([]);
    expect(s.observed).toBe(false);
  });
});

describe('seq', () => {
  it('takes the events’ own seqs, skips duplicates (a replay) and allows gaps', async () => {
    const states = createKeyedStates(keyedCharModel(model));
    const events = [
      { key: 'a', value: 1, seq: 10 },
      { key: 'a', value: 2, seq: 12 },
      { key: 'a', value: 9, seq: 12 }, // duplicate: skipped
      { key: 'a', value: 9, seq: 3 }, // older: skipped
      { key: 'a', value: 4 }, // no seq: the next one, 13
      { key: 'b', value: 5, seq: 7 },
    ];
    const rs = await lastValueFrom(from(events).pipe(keyed(states), toArray()));
    expect(rs.map((r) => `${r.key}${r.seq}`).sort()).toEqual(['a10', 'a12', 'a13', 'b7']);
    expect(states.metrics()).toMatchObject({ duplicates: 2, outputs: 4, events: 6 });
    expect(states.seqOf('a')).toBe(13);
    // The skipped events did not touch the state: a's outputs are those of tokens 1, 2, 4.
    const want = loneLogits(
      model,
      [1, 2, 4].map((value) => ({ key: 'a', value })),
    );
    const a = rs.filter((r) => r.key === 'a');
    expect(maxAbsDiff(logitsOf(a), want.get('a')!)).toBeLessThanOrEqual(1e-5);
  });

  it('replays after a restore from a checkpoint: events already applied are skipped', async () => {
    const store = new MemoryStateStore();
    const events = tokenEvents(200, 5, 4).map((e, i) => ({ ...e, seq: i + 1 }));
    const first = createKeyedStates(keyedCharModel(model), { store });
    const head = await lastValueFrom(from(events.slice(0, 120)).pipe(keyed(first), toArray()));
    await first.checkpoint();
    // A new process: the same store, the stream replayed from event 80 (some already applied).
    const second = createKeyedStates(keyedCharModel(model), { store });
    const tail = await lastValueFrom(from(events.slice(80)).pipe(keyed(second), toArray()));
    expect(second.metrics().duplicates).toBe(40);
    const all = [...head, ...tail];
    expect(all.map((r) => r.seq).sort((x, y) => x - y)).toEqual(events.map((e) => e.seq));
    const want = loneLogits(model, events);
    for (const [key, rs] of resultsPerKey(all))
      expect(maxAbsDiff(logitsOf(rs), want.get(key)!)).toBeLessThanOrEqual(1e-5);
  });
});

describe('memory bounded by maxKeys', () => {
  it('never holds more than maxKeys states while 3000 distinct keys stream through', () => {
    const store = new MemoryStateStore();
    const states = createKeyedStates(keyedCharModel(model), { maxKeys: 16, store });
    const events = Array.from({ length: 6000 }, (_, i) => ({ key: `u${i % 3000}`, value: i % 11 }));
    let most = 0;
    let answers = 0;
    const s = new Subject<KeyedEvent<number, string>>();
    s.pipe(keyed(states, { maxBatch: 8 })).subscribe(() => {
      most = Math.max(most, states.size);
      answers++;
    });
    for (const e of events) {
      s.next(e);
      most = Math.max(most, states.size);
    }
    s.complete();
    expect(answers).toBe(6000);
    expect(most).toBe(16);
    const m = states.metrics();
    // The state table's high-water mark: 16 rows.
    expect(m.stateBytes).toBe(16 * model.stateSize * 4);
    expect(m.keysInMemory).toBe(16);
    expect(m.evictions).toBe(6000 - 16);
    // The second pass restores every key (the 16 left in memory were evicted before they came back).
    expect(m.restores).toBe(3000);
    // A restored key's snapshot stays in the store (older than its state in memory, newer than
    // nothing): every key has one.
    expect(store.size).toBe(3000);
  });
});

describe('stores', () => {
  const events = tokenEvents(600, 30, 6);

  it('a store that answers later: same outputs, one key’s puts in order, the latest snapshot kept', async () => {
    const inner = new MemoryStateStore();
    const slow = new SlowStore(inner);
    const states = createKeyedStates(keyedCharModel(model), { maxKeys: 4, store: slow });
    let inFlight = 0;
    const rs = await lastValueFrom(
      from(events).pipe(
        keyed(states, { maxBatch: 4 }),
        tap(() => (inFlight = Math.max(inFlight, states.metrics().writesInFlight))),
        toArray(),
      ),
    );
    expect(inFlight).toBeGreaterThan(0);
    const want = loneLogits(model, events);
    for (const [key, list] of resultsPerKey(rs))
      expect(maxAbsDiff(logitsOf(list), want.get(key)!)).toBeLessThanOrEqual(1e-5);
    await states.checkpoint();
    // Every key's stored snapshot is its final state (the last put won, in order).
    const check = createKeyedStates(keyedCharModel(model), { store: inner });
    const next = await lastValueFrom(
      from([...want.keys()].map((key) => ({ key, value: 3 }))).pipe(keyed(check), toArray()),
    );
    for (const r of next) {
      const lone = loneLogits(model, [...events.filter((e) => e.key === r.key), { key: r.key, value: 3 }]).get(r.key)!;
      expect(r.seq).toBe(lone.length);
      expect(maxAbsDiff([(r as KeyedOutput<Float32Array, string>).output], [lone.at(-1)!])).toBeLessThanOrEqual(1e-5);
    }
  });

  it('a key evicted again while its earlier snapshots wait is stored at its latest state; unchanged keys are not put', async () => {
    // Puts of key A wait behind a gate: A leaves memory three times (each return restores it
    // from the snapshot still on its way), so three of its puts queue up behind one another.
    const inner = new MemoryStateStore();
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const puts: string[] = [];
    const store: StateStore = {
      get: (key) => inner.get(key),
      put: (key, bytes) => {
        puts.push(String(key));
        if (key !== 'A') return inner.put(key, bytes);
        return gate.then(() => inner.put(key, bytes));
      },
      delete: (key) => inner.delete(key),
    };
    const states = createKeyedStates(keyedCharModel(model), { maxKeys: 2, store });
    const s = new Subject<KeyedEvent<TokenInput, string>>();
    const got: KeyedResult<Float32Array | null, string>[] = [];
    s.pipe(keyed(states, { maxBatch: 1 })).subscribe((r) => got.push(r));
    const sent: KeyedEvent<number, string>[] = [];
    const send = (key: string, value: number) => {
      sent.push({ key, value });
      s.next({ key, value });
    };
    for (let round = 0; round < 3; round++)
      for (const key of ['A', 'B', 'C']) send(key, round + 1 + (key.charCodeAt(0) % 3));
    expect(states.metrics().writesInFlight).toBe(1); // A's three puts, one after another
    expect(states.has('A')).toBe(false);
    open();
    await states.checkpoint();
    const written = puts.length;
    // Nothing changed since: a second checkpoint puts nothing.
    await states.checkpoint();
    expect(puts.length).toBe(written);
    // A comes back from the store (no put of it in flight any more) for its fourth event.
    send('A', 4);
    s.complete();
    expect(states.metrics().restores).toBeGreaterThan(0);
    const want = loneLogits(model, sent);
    for (const [key, list] of resultsPerKey(got))
      expect(maxAbsDiff(logitsOf(list), want.get(key)!)).toBeLessThanOrEqual(1e-5);
    expect(got.filter((r) => r.key === 'A').map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });

  it('holds new keys back while maxKeys snapshots are on their way to a slow store', async () => {
    // Reads answer at once, writes later: without the bound, snapshots would pile up in memory.
    const slow = new SlowStore(new MemoryStateStore(), new Set(['put']));
    const states = createKeyedStates(keyedCharModel(model), { maxKeys: 4, store: slow });
    let inFlight = 0;
    const rs = await lastValueFrom(
      from(events).pipe(
        keyed(states, { maxBatch: 4 }),
        tap(() => (inFlight = Math.max(inFlight, states.metrics().writesInFlight))),
        toArray(),
      ),
    );
    expect(inFlight).toBe(4);
    expect(rs).toHaveLength(events.length);
    const want = loneLogits(model, events);
    for (const [key, list] of resultsPerKey(rs))
      expect(maxAbsDiff(logitsOf(list), want.get(key)!)).toBeLessThanOrEqual(1e-5);
  });

  it('errors the stream when the store fails, naming the operation and key', async () => {
    for (const op of ['get', 'put'] as const) {
      const slow = new SlowStore(new MemoryStateStore());
      slow.failOn = { op, key: 'k3' };
      const states = createKeyedStates(keyedCharModel(model), { maxKeys: 2, store: slow });
      const error = await lastValueFrom(from(events).pipe(keyed(states), toArray())).catch((e: unknown) => e);
      expect(String(error)).toBe(`Error: keyed: state store ${op}("k3") failed: disk on fire`);
    }
    // A lost state: the states refuse any further work.
    const slow = new SlowStore(new MemoryStateStore());
    slow.failOn = { op: 'put', key: 'k1' };
    const states = createKeyedStates(keyedCharModel(model), { maxKeys: 2, store: slow });
    await lastValueFrom(from(events).pipe(keyed(states), toArray())).catch(() => undefined);
    await expect(states.checkpoint()).rejects.toThrow(/put\("k1"\) failed/);
    const late = await lastValueFrom(from(events).pipe(keyed(states), toArray())).catch((e: unknown) => e);
    expect(String(late)).toMatch(/put\("k1"\) failed/);
  });

  it('refuses damaged or foreign snapshots with what was expected', async () => {
    const store = new MemoryStateStore();
    const states = createKeyedStates(keyedCharModel(model), { store });
    await lastValueFrom(from(events).pipe(keyed(states), toArray()));
    await states.checkpoint();
    const bytes = store.get('k1')!;
    const run = async (s: StateStore, m = model) =>
      String(
        await lastValueFrom(
          from([{ key: 'k1', value: 1 }]).pipe(keyed(createKeyedStates(keyedCharModel(m), { store: s })), toArray()),
        ).catch((e: unknown) => e),
      );
    const flipped = new Uint8Array(bytes);
    flipped[flipped.length - 20] = flipped[flipped.length - 20]! ^ 0x10;
    store.put('k1', flipped);
    expect(await run(store)).toMatch(
      /^RangeError: keyed: snapshot of key "k1": checksum \d+, expected \d+ \(the bytes are damaged\)$/,
    );
    store.put('k1', store.get('k2')!);
    expect(await run(store)).toBe('RangeError: keyed: snapshot of key "k1": it holds key "k2", expected "k1"');
    store.put('k1', new Uint8Array([1, 2, 3]));
    expect(await run(store)).toMatch(/^RangeError: keyed: snapshot of key "k1": /);
    store.put('k1', bytes);
    const other = new CharModel({ cell: 'gru', vocab: model.config.vocab, hidden: 16, layers: 2, embeddingDim: 5 });
    expect(await run(store, other)).toMatch(
      /snapshot of key "k1": StateHandle.restore: snapshot of an lstm model .* expected a gru model/,
    );
    const surprisalStates = createKeyedStates(keyedCharModel(model, { output: 'surprisal' }), { store });
    const r = await lastValueFrom(from([{ key: 'k1', value: 1 }]).pipe(keyed(surprisalStates), toArray())).catch(
      (e: unknown) => e,
    );
    expect(String(r)).toBe('RangeError: keyed: snapshot of key "k1": output "logits", expected "surprisal"');
  });
});

describe('KeyedStates', () => {
  it('checkpoint(): a new KeyedStates on the same store goes on exactly where this one stood', async () => {
    const events = tokenEvents(500, 12, 9);
    const store = new MemoryStateStore();
    const a = createKeyedStates(keyedCharModel(model), { store, maxKeys: 100 });
    const head = await lastValueFrom(from(events.slice(0, 250)).pipe(keyed(a, { maxBatch: 1 }), toArray()));
    expect(await a.checkpoint()).toBe(a.size);
    // The deploy: the store moves as bytes to the next process.
    const moved = MemoryStateStore.fromSnapshot(store.snapshot());
    const b = createKeyedStates(keyedCharModel(model), { store: moved });
    const tail = await lastValueFrom(from(events.slice(250)).pipe(keyed(b, { maxBatch: 1 }), toArray()));
    // Against one process that saw everything (batches of one both ways: bit for bit).
    const whole = await lastValueFrom(from(events).pipe(keyed(keyedCharModel(model), { maxBatch: 1 }), toArray()));
    const split = [...head, ...tail];
    expect(split.map((r) => `${r.key}${r.seq}`)).toEqual(whole.map((r) => `${r.key}${r.seq}`));
    split.forEach((r, i) =>
      expect(bits((r as KeyedOutput<Float32Array, string>).output)).toEqual(
        bits((whole[i] as KeyedOutput<Float32Array, string>).output),
      ),
    );
  });

  it('delete(key): state, queued events and snapshot gone; the key starts afresh', async () => {
    const store = new MemoryStateStore();
    const states = createKeyedStates(keyedCharModel(model), { store });
    const s = new Subject<KeyedEvent<TokenInput, string>>();
    const got: string[] = [];
    s.pipe(keyed(states, { maxDelayMs: 1000 })).subscribe((r) => got.push(`${r.key}${r.seq}`));
    s.next({ key: 'a', value: 1 });
    s.next({ key: 'b', value: 1 });
    // Both wait in memory for their batch; a checkpoint stores them as they are (seq 0).
    expect(await states.checkpoint()).toBe(2);
    expect(store.size).toBe(2);
    await states.delete('a'); // its queued event is dropped
    expect(states.has('a')).toBe(false);
    expect(store.get('a')).toBeUndefined();
    expect(states.metrics().pendingEvents).toBe(1);
    s.next({ key: 'a', value: 1 });
    s.complete();
    expect(got.sort()).toEqual(['a1', 'b1']);
    await expect(states.delete(Number.NaN)).rejects.toThrow(/key must be a string or a finite number, got NaN/);
  });

  it('stateOf() and seqOf() read a key in memory; toString() says what it holds', async () => {
    const states = createKeyedStates(keyedCharModel(model), { maxKeys: 3 });
    await lastValueFrom(from([1, 2, 3].map((value) => ({ key: 'a', value }))).pipe(keyed(states), toArray()));
    const want = model.createState(1);
    for (const t of [1, 2, 3]) model.step(Int32Array.of(t), want);
    expect(maxAbsDiff([states.stateOf('a')!], [want])).toBe(0);
    expect(states.seqOf('a')).toBe(3);
    expect(states.stateOf('zz')).toBeUndefined();
    expect(String(states)).toBe('KeyedStates(an lstm char model (V 11, H 16, 2 layers), 1 of 3 keys)');
  });
});

describe('MemoryStateStore snapshot', () => {
  it('round-trips every key and refuses damaged bytes, leaving the store as it was', () => {
    const store = new MemoryStateStore();
    store.put('a', Uint8Array.of(1, 2));
    store.put(7, Uint8Array.of(3));
    const bytes = store.snapshot();
    const copy = MemoryStateStore.fromSnapshot(bytes);
    expect([...copy.keys()]).toEqual(['a', 7]);
    expect(Array.from(copy.get(7)!)).toEqual([3]);
    const bad = new Uint8Array(bytes);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    expect(() => copy.restore(bad)).toThrow(
      /^MemoryStateStore.restore: checksum \d+, expected \d+ \(the bytes are damaged\)$/,
    );
    expect(copy.size).toBe(2);
    expect(() => copy.restore(Uint8Array.of(0x81))).toThrow(/^MemoryStateStore.restore: unreadable bytes/);
    expect(() => copy.restore(Uint8Array.of(0x2a))).toThrow(
      /^MemoryStateStore.restore: 42, expected a keyed store snapshot$/,
    );
    expect(() => copy.put('x', [1] as never)).toThrow(
      /^MemoryStateStore.put: bytes must be a Uint8Array, got an array/,
    );
  });
});
