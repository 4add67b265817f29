// keyed() as an operator: the shared RxJS checklist, then time with TestScheduler — what arrives
// within maxDelayMs is one batch, a full batch runs at once, one key's second event waits for the
// next batch, completion answers what is queued, unsubscribing stops everything — and the checks
// of its options.
import { createCell } from '@rxrnn/cells';
import { type Observable, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../test/support/rx-checklist.js';
import {
  createKeyedStates,
  type KeyedEvent,
  type KeyedResult,
  keyed,
  keyedCell,
  keyedCharModel,
  MemoryStateStore,
} from '../src/index.js';
import { loneH, smallCharModel, vectorEvents } from './helpers.js';

const cell = createCell({ kind: 'lstm', inputSize: 4, hiddenSize: 6, seed: 1 });

describe('keyed() checklist (an lstm cell, maxBatch 1, errors: error)', () => {
  const events = vectorEvents(9, 3, 4);
  // Oracle: each key's inputs through Cell.step alone; with maxBatch 1 the answers come in arrival order.
  const lone = loneH(cell, events);
  const seen = new Map<number, number>();
  const expected = events.map((e) => {
    const i = seen.get(e.key) ?? 0;
    seen.set(e.key, i + 1);
    return { key: e.key, seq: i + 1, output: lone.get(e.key)![i]! };
  });
  const checks = rxChecklist<KeyedEvent<Float32Array, number>, KeyedResult<Float32Array, number>>({
    make: () => keyed(keyedCell(cell), { maxBatch: 1, errors: 'error' }),
    inputs: events,
    expected,
    bad: {
      input: { key: events[1]!.key, value: new Float32Array(3) },
      message: new RegExp(`^keyed: input length 3, expected n_x = 4 at step 1 of key ${events[1]!.key}$`),
    },
  });
  for (const [name, check] of Object.entries(checks)) it(name, check);
});

/** Runs `body` under a TestScheduler; `at(name)` records `${key}${seq}` with the frame it came at. */
function timed(
  body: (t: {
    scheduler: TestScheduler;
    cold: TestScheduler['createColdObservable'];
    record: (o: Observable<KeyedResult<unknown, string>>, unsubscribeAt?: number) => void;
  }) => void,
): { at: string[]; done: number | null; error: unknown } {
  const result = { at: [] as string[], done: null as number | null, error: undefined as unknown };
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.run(({ cold }) => {
    body({
      scheduler,
      cold,
      record: (o, unsubscribeAt) => {
        const sub = o.subscribe({
          next: (r) => result.at.push(`${scheduler.now()}:${r.key}${r.seq}${'error' in r ? '!' : ''}`),
          error: (e) => (result.error = e),
          complete: () => (result.done = scheduler.now()),
        });
        if (unsubscribeAt !== undefined) scheduler.schedule(() => sub.unsubscribe(), unsubscribeAt);
      },
    });
  });
  return result;
}

describe('keyed() batching in time (TestScheduler)', () => {
  const model = smallCharModel();
  const ev = (key: string, value = 1) => ({ key, value });

  it('steps what arrives within maxDelayMs as one batch, maxDelayMs after the first event', () => {
    const states = createKeyedStates(keyedCharModel(model));
    const r = timed(({ scheduler, cold, record }) => {
      const source = cold<KeyedEvent<number, string>>('a-b-c 20ms |', { a: ev('x'), b: ev('y'), c: ev('z') });
      record(source.pipe(keyed(states, { maxDelayMs: 5, maxBatch: 8, scheduler })));
    });
    expect(r.at).toEqual(['5:x1', '5:y1', '5:z1']);
    expect(states.metrics().batchSizes).toEqual([{ size: 3, count: 1 }]);
    expect(r.done).toBe(25);
  });

  it('runs a full batch at once and waits for the rest', () => {
    const states = createKeyedStates(keyedCharModel(model));
    const r = timed(({ scheduler, cold, record }) => {
      const source = cold<KeyedEvent<number, string>>('(ab)-c 20ms |', { a: ev('x'), b: ev('y'), c: ev('z') });
      record(source.pipe(keyed(states, { maxDelayMs: 5, maxBatch: 2, scheduler })));
    });
    // (ab) is frame 0; "-" and "c" put z at frame 5, answered at 10.
    expect(r.at).toEqual(['0:x1', '0:y1', '10:z1']);
    expect(states.metrics().batchSizes).toEqual([
      { size: 1, count: 1 },
      { size: 2, count: 1 },
    ]);
  });

  it('never puts two events of one key in a batch: the second goes in the next, right after', () => {
    const states = createKeyedStates(keyedCharModel(model));
    const r = timed(({ scheduler, cold, record }) => {
      const source = cold<KeyedEvent<number, string>>('(abc) 20ms |', { a: ev('x', 1), b: ev('x', 2), c: ev('y') });
      record(source.pipe(keyed(states, { maxDelayMs: 4, maxBatch: 8, scheduler })));
    });
    // x has two events queued, so the flush does not wait maxDelayMs (see the next test).
    expect(r.at).toEqual(['0:x1', '0:y1', '0:x2']);
    expect(states.metrics().batchSizes).toEqual([
      { size: 1, count: 1 },
      { size: 2, count: 1 },
    ]);
  });

  it('flushes at once when a key gets a second event queued, else after maxDelayMs', () => {
    const states = createKeyedStates(keyedCharModel(model));
    const r = timed(({ scheduler, cold, record }) => {
      // y and x at frame 0, x again at 2: two batches are needed from then on, whenever they run.
      const source = cold<KeyedEvent<number, string>>('(ab)-c 20ms (de) 20ms |', {
        a: ev('y'),
        b: ev('x', 1),
        c: ev('x', 2),
        d: ev('z', 1),
        e: ev('w', 1),
      });
      record(source.pipe(keyed(states, { maxDelayMs: 8, maxBatch: 8, scheduler })));
    });
    // (ab) at 0, c at 5 (flushed there, not at 8); (de) at 26, each key once: flushed at 26 + 8.
    expect(r.at).toEqual(['5:y1', '5:x1', '5:x2', '34:z1', '34:w1']);
    expect(states.metrics().batchSizes).toEqual([
      { size: 1, count: 1 },
      { size: 2, count: 2 },
    ]);
  });

  it('answers everything queued when the source completes, without waiting for maxDelayMs', () => {
    const states = createKeyedStates(keyedCharModel(model));
    const r = timed(({ scheduler, cold, record }) => {
      const source = cold<KeyedEvent<number, string>>('a-b-|', { a: ev('x'), b: ev('y') });
      record(source.pipe(keyed(states, { maxDelayMs: 1000, scheduler })));
    });
    expect(r.at).toEqual(['4:x1', '4:y1']);
    expect(r.done).toBe(4);
  });

  it('stops all work on unsubscribe: no step, no answer, nothing queued', () => {
    const states = createKeyedStates(keyedCharModel(model));
    const r = timed(({ scheduler, cold, record }) => {
      const source = cold<KeyedEvent<number, string>>('a-b 20ms c|', { a: ev('x'), b: ev('y'), c: ev('z') });
      record(source.pipe(keyed(states, { maxDelayMs: 5, scheduler })), 3);
    });
    expect(r.at).toEqual([]);
    const m = states.metrics();
    expect(m.batches).toBe(0);
    expect(m.pendingEvents).toBe(0);
    // The states stay usable by the next subscription.
    const again = timed(({ scheduler, cold, record }) => {
      record(cold<KeyedEvent<number, string>>('a|', { a: ev('x') }).pipe(keyed(states, { scheduler })));
    });
    expect(again.at).toEqual(['0:x1']);
  });

  it('evicts keys idle for idleMs into the store and brings them back bit for bit', () => {
    const store = new MemoryStateStore();
    const states = createKeyedStates(keyedCharModel(model), { idleMs: 10, store });
    const keep = createKeyedStates(keyedCharModel(model));
    const events = 'a-b 30ms c-d|';
    const values = { a: ev('x', 1), b: ev('y', 2), c: ev('x', 3), d: ev('y', 4) };
    let outputs: KeyedResult<Float32Array | null, string>[] = [];
    let kept: KeyedResult<Float32Array | null, string>[] = [];
    const r = timed(({ scheduler, cold }) => {
      cold<KeyedEvent<number, string>>(events, values)
        .pipe(keyed(states, { scheduler, maxBatch: 1 }))
        .subscribe((o) => outputs.push(o));
      cold<KeyedEvent<number, string>>(events, values)
        .pipe(keyed(keep, { scheduler, maxBatch: 1 }))
        .subscribe((o) => kept.push(o));
      // Halfway: x and y were evicted at 10 and 12, and are only in the store.
      scheduler.schedule(() => {
        expect(states.metrics()).toMatchObject({ keysInMemory: 0, idleEvictions: 2 });
        expect(store.size).toBe(2);
      }, 20);
    });
    expect(r.error).toBeUndefined();
    expect(states.metrics()).toMatchObject({ restores: 2, freshKeys: 2, evictions: 2 });
    outputs = outputs.slice();
    kept = kept.slice();
    // Batches of one both ways, so the only difference is evict → restore, which must be exact.
    expect(outputs.map((o) => o.seq)).toEqual([1, 1, 2, 2]);
    outputs.forEach((o, i) => {
      expect(o.key).toBe(kept[i]!.key);
      expect(Array.from((o as { output: Float32Array }).output)).toEqual(
        Array.from((kept[i] as { output: Float32Array }).output),
      );
    });
  });
});

describe('keyed() options', () => {
  const m = keyedCell(cell);
  it.each([
    [{ maxBatch: 0 }, /^keyed: maxBatch must be a positive integer, got 0$/],
    [{ maxDelayMs: -1 }, /^keyed: maxDelayMs must be a finite number >= 0, got -1$/],
    [{ maxKeys: 1.5 }, /^keyed: maxKeys must be a positive integer, got 1.5$/],
    [{ idleMs: 0 }, /^keyed: idleMs must be a finite number > 0, got 0$/],
    [{ errors: 'ignore' }, /^keyed: errors must be one of "emit", "error", got "ignore"$/],
    [{ sliceMs: Number.NaN }, /^keyed: sliceMs must be a finite number > 0, got NaN$/],
    [{ maxPending: 0 }, /^keyed: maxPending must be a positive integer, got 0$/],
    [{ store: {} }, /^keyed: store must be a StateStore \(get, put, delete\), got an Object$/],
    [{ scheduler: 5 }, /^keyed: scheduler must be an RxJS SchedulerLike, got 5$/],
  ])('refuses %j at once', (options, message) => {
    expect(() => keyed(m, options as never)).toThrow(message);
  });

  it('refuses what is not a keyed model, and memory options beside a KeyedStates', () => {
    expect(() => keyed(cell as never)).toThrow(
      /^keyed: model must be a KeyedModel \(keyedCell\(\), keyedCharModel\(\)\), got a LstmCell$/,
    );
    const states = createKeyedStates(m);
    expect(() => keyed(states, { maxKeys: 5 })).toThrow(/^keyed: maxKeys belongs to the KeyedStates given/);
    expect(() => keyedCell({} as never)).toThrow(/^keyedCell: cell must be a cell or a stack/);
    expect(() => keyedCharModel(smallCharModel(), { output: 'argmax' as never })).toThrow(
      /^keyedCharModel: output must be one of "logits", "sample", "surprisal", got "argmax"$/,
    );
    expect(() => keyedCharModel(smallCharModel(), { sampling: { topK: 0 } as never, output: 'sample' })).toThrow(
      /^keyedCharModel: topK must be a positive integer, got 0$/,
    );
  });

  it('lets one subscription at a time use a KeyedStates', () => {
    const states = createKeyedStates(m);
    const a = new Subject<KeyedEvent<Float32Array, number>>();
    const first = a.pipe(keyed(states)).subscribe();
    let error: unknown;
    a.pipe(keyed(states)).subscribe({ error: (e) => (error = e) });
    expect(String(error)).toMatch(/in use by another subscription/);
    first.unsubscribe();
    let completed = false;
    a.pipe(keyed(states)).subscribe({ complete: () => (completed = true) });
    a.complete();
    expect(completed).toBe(true);
  });

  it('errors the stream when more events are pending than maxPending', () => {
    const s = new Subject<KeyedEvent<Float32Array, number>>();
    let error: unknown;
    s.pipe(keyed(m, { maxPending: 3, maxDelayMs: 50 })).subscribe({ error: (e) => (error = e) });
    for (let i = 0; i < 4; i++) s.next({ key: i, value: new Float32Array(4) });
    expect(error).toBeInstanceOf(RangeError);
    expect(String(error)).toMatch(/keyed: events pending must be at most maxPending = 3, got one more/);
    expect(s.observed).toBe(false);
  });

  it('errors the stream on an event that is not { key, value } with a string or finite number key', () => {
    for (const [bad, message] of [
      [null, /^TypeError: keyed: event must be an object \{ key, value \}, got null$/],
      [{ key: Number.NaN, value: 1 }, /^TypeError: keyed: key must be a string or a finite number, got NaN$/],
      [
        { key: ['a'], value: 1 },
        /^TypeError: keyed: key must be a string or a finite number, got an array of length 1$/,
      ],
    ] as const) {
      const s = new Subject<unknown>();
      let error: unknown;
      s.pipe(keyed(m) as never).subscribe({ error: (e) => (error = e) });
      s.next(bad);
      expect(String(error)).toMatch(message);
    }
  });
});
