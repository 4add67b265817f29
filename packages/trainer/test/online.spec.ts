// trainOnline / scoreOnline: the operator checklist of CONTRIBUTING.md (test/support/rx-checklist), bounded
// memory under a fast synchronous producer, and the values checked against the model's own forward pass.
import { CharModel } from '@rxrnn/cells';
import { from, lastValueFrom, type Observable, of, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../test/support/rx-checklist.js';
import { type OnlineInput, type OnlineTrainEvent, type ScoreEvent, scoreOnline, trainOnline } from '../src/index.js';

const vocab = [...' abcdefghijklmnopqrstuvwxyz.'];
const makeModel = () => new CharModel({ cell: 'lstm', vocab, hidden: 16, embeddingDim: 8, seed: 11 });
const text = 'a stream of text arrives one char at a time and the model learns from it. '.repeat(4);
const T = 16;

function collect<T>(obs: Observable<T>): Promise<T[]> {
  return lastValueFrom(obs.pipe(toArray()));
}

describe('trainOnline', () => {
  describe('RxJS checklist', () => {
    const W = 8;
    // One window per chunk: the first also carries the extra token the first window's targets need.
    const chunks = [text.slice(0, W + 1), text.slice(W + 1, 2 * W + 1), text.slice(2 * W + 1, 3 * W + 1)];
    const checks = rxChecklist({
      // 'block' with one pending window trains at once when a second one waits, so a synchronous
      // source is throttled to one window ahead (syncSlack 1).
      make: () => trainOnline(makeModel(), { bptt: W, maxPendingWindows: 1, overflow: 'block' }),
      inputs: chunks,
      // Losses depend on the shared model's history, so the checklist compares steps and tokens;
      // the loss is checked against the forward pass below.
      expected: [1, 2, 3].map((step) => ({ step, tokens: step * W })),
      equal: (got: OnlineTrainEvent, want: { step: number; tokens: number }) =>
        got.step === want.step && got.tokens === want.tokens,
      bad: { input: 'dEf', message: /^trainOnline: char "E" at token 10 is not in the model's vocabulary/ },
      asynchronous: true,
      syncSlack: 1,
    });
    for (const [name, check] of Object.entries(checks)) it(name, check);
  });

  it('basic values: one event per window, loss equals the forward pass before the update, then completes', async () => {
    const model = makeModel();
    const twin = makeModel(); // same seed: the parameters before any update
    const events = await collect(from(text).pipe(trainOnline(model, { bptt: T, lr: 1e-2, maxPendingWindows: 100 })));
    const ids = Int32Array.from([...text].map((c) => vocab.indexOf(c)));
    // Windows overlap by one token: ⌈(n − 1) / T⌉ of them, the last one partial.
    expect(events.length).toBe(Math.ceil((ids.length - 1) / T));
    expect(events.map((e) => e.step)).toEqual(events.map((_, i) => i + 1));
    const first = twin.evaluate(ids.subarray(0, T), ids.subarray(1, T + 1), T, 1, twin.createState(1));
    expect(events[0]!.loss).toBeCloseTo(first.lossSum / first.count, 5);
    expect(events[0]!.bpc).toBeCloseTo(events[0]!.loss / Math.LN2, 12);
    expect(events.at(-1)!.tokens).toBe(ids.length - 1);
    expect(events.at(-1)!.loss).toBeLessThan(events[0]!.loss);
    expect(events.every((e) => e.gradNorm > 0 && e.tokensPerSecond > 0 && e.droppedWindows === 0)).toBe(true);
  });

  it('accepts chunks, single ids and id arrays alike', async () => {
    const ids = [...text.slice(0, 40)].map((c) => vocab.indexOf(c));
    const a = await collect(from([text.slice(0, 20), text.slice(20, 40)]).pipe(trainOnline(makeModel(), { bptt: T })));
    const b = await collect(
      from([ids.slice(0, 7), ...ids.slice(7, 30), Int32Array.from(ids.slice(30))]).pipe(
        trainOnline(makeModel(), { bptt: T }),
      ),
    );
    expect(a.length).toBe(3);
    expect(b.map((e) => e.loss)).toEqual(a.map((e) => e.loss));
  });

  it('errors of its own name the operator, the token and what was expected', async () => {
    await expect(collect(of('abc', 'dEf').pipe(trainOnline(makeModel())))).rejects.toThrow(
      /trainOnline: char "E" at token 4 is not in the model's vocabulary/,
    );
    await expect(collect(of(1, 2, 99).pipe(trainOnline(makeModel())))).rejects.toThrow(
      /token id 99 at token 2, expected an integer in 0..27/,
    );
    await expect(collect(of({} as unknown as OnlineInput).pipe(trainOnline(makeModel())))).rejects.toThrow(TypeError);
    expect(() => trainOnline(makeModel(), { bptt: 0 })).toThrow(/trainOnline: bptt must be a positive integer, got 0/);
    expect(() => scoreOnline(makeModel(), { lr: -1 })).toThrow(/scoreOnline: lr must be/);
  });

  it('unknown chars can be skipped and counted instead', async () => {
    const events = await collect(
      of('abc#abc#abc#abc#abc#abc#').pipe(trainOnline(makeModel(), { bptt: 4, unknownChars: 'skip' })),
    );
    expect(events.at(-1)!.skippedChars).toBe(6);
  });

  it('no update after an early unsubscribe', async () => {
    const model = makeModel();
    const events = await collect(
      of(text.repeat(3)).pipe(trainOnline(model, { bptt: T, maxPendingWindows: 64 }), take(2)),
    );
    expect(events.length).toBe(2);
    const after = model.params.slice();
    await new Promise((r) => setTimeout(r, 30));
    expect(Array.from(model.params)).toEqual(Array.from(after));
  });

  it('a fast synchronous producer of 1e6 chars keeps memory bounded: oldest windows are dropped and counted', async () => {
    const maxPendingWindows = 4;
    const n = 1_000_000;
    function* chars() {
      for (let i = 0; i < n; i++) yield vocab[1 + (i % 26)]!;
    }
    const heapBefore = process.memoryUsage().heapUsed;
    let maxPending = 0;
    const events: OnlineTrainEvent[] = [];
    await new Promise<void>((resolve, reject) =>
      from(chars())
        .pipe(trainOnline(makeModel(), { bptt: 64, maxPendingWindows }))
        .subscribe({
          next: (e) => {
            events.push(e);
            maxPending = Math.max(maxPending, e.pending);
          },
          error: reject,
          complete: () => resolve(),
        }),
    );
    const heapAfter = process.memoryUsage().heapUsed;
    const windows = Math.ceil((n - 1) / 64);
    const last = events.at(-1)!;
    expect(maxPending).toBeLessThanOrEqual(maxPendingWindows);
    expect(events.length + last.droppedWindows).toBe(windows);
    expect(events.length).toBeLessThanOrEqual(maxPendingWindows + 1);
    // Buffering 1e6 chars would be > 4 MB as ids and far more as strings; allow GC noise.
    expect(heapAfter - heapBefore).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('scoreOnline (dynamic evaluation)', () => {
  describe('RxJS checklist', () => {
    // bptt 2: an update after every second scored token, so `step` shows the learning.
    const checks = rxChecklist({
      make: () => scoreOnline(makeModel(), { bptt: 2 }),
      inputs: ['ab', 'c', 'd', 'e'],
      expected: [...'bcde'].map((char, i) => ({ index: i + 1, char, step: Math.floor(i / 2) })),
      equal: (got: ScoreEvent, want: { index: number; char: string; step: number }) =>
        got.index === want.index && got.char === want.char && got.step === want.step,
      bad: { input: '!', message: /^scoreOnline: char "!" at token 2 / },
    });
    for (const [name, check] of Object.entries(checks)) it(name, check);
  });

  function bitsFromModel(model: CharModel, s: string): number[] {
    const state = model.createState(1);
    const out: number[] = [];
    const ids = [...s].map((c) => vocab.indexOf(c));
    for (let i = 1; i < ids.length; i++) {
      const logits = model.step(Int32Array.of(ids[i - 1]!), state);
      const max = Math.max(...logits);
      const lse = Math.log(logits.reduce((a, v) => a + Math.exp(v - max), 0)) + max;
      out.push((lse - logits[ids[i]!]!) / Math.LN2);
    }
    return out;
  }

  it('with learning off, scores equal the frozen model token by token', async () => {
    const s = text.slice(0, 60);
    const events = await collect(from(s).pipe(scoreOnline(makeModel(), { learn: false })));
    const want = bitsFromModel(makeModel(), s);
    expect(events.map((e) => e.index)).toEqual(want.map((_, i) => i + 1));
    events.forEach((e, i) => expect(e.bits).toBeCloseTo(want[i]!, 4));
    expect(events.every((e) => e.step === 0)).toBe(true);
  });

  it('scores each token before learning from it, and learning lowers later surprisal', async () => {
    const s = text.repeat(4);
    const events: ScoreEvent[] = await collect(from(s).pipe(scoreOnline(makeModel(), { bptt: T, lr: 1e-2 })));
    const want = bitsFromModel(makeModel(), s.slice(0, T + 1));
    // The first window is scored before any update, so it matches the untouched model.
    for (let i = 0; i < T; i++) expect(events[i]!.bits).toBeCloseTo(want[i]!, 4);
    expect(events[T]!.step).toBe(1);
    const mean = (a: ScoreEvent[]) => a.reduce((x, e) => x + e.bits, 0) / a.length;
    expect(mean(events.slice(-100))).toBeLessThan(mean(events.slice(0, 100)) - 0.5);
  });

  it('stops a synchronous infinite source after the last wanted token, and trains no more after it', async () => {
    let pulled = 0;
    function* forever() {
      for (;;) {
        pulled++;
        yield 'ab';
      }
    }
    const model = makeModel();
    const events = await collect(from(forever()).pipe(scoreOnline(model, { bptt: 4 }), take(7)));
    expect(events.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pulled).toBeLessThanOrEqual(4);
    // Nothing trains after the unsubscribe.
    const after = Array.from(model.params);
    await new Promise((r) => setTimeout(r, 10));
    expect(Array.from(model.params)).toEqual(after);
  });
});
