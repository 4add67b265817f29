// bidirectional(): the RxJS checklist for every cell kind and a 2-layer stack, the window modes
// (fixed, hop/overlap, delimiter, latency) against a step-by-step oracle, and marble tests for the
// latency flush on a TestScheduler.

import { type CellKind, createCell } from '@rxrnn/cells';
import { from, map, type Observable, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { BidirectionalStack } from '../../src/bidirectional-stack.js';
import { type BidirectionalOptions, bidirectional } from '../../src/operators/bidirectional.js';
import { closeWindows, oracleWindows, randomVectors } from '../window-oracle.js';

const nX = 3;
const H = 4;
const pair = (kind: CellKind, seed: number) => ({
  forward: createCell({ kind, inputSize: nX, hiddenSize: H, seed }),
  reverse: createCell({ kind, inputSize: nX, hiddenSize: H, seed: seed + 1 }),
});
const chunks = (xs: Float32Array[], n: number) =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));
const run = (source: Observable<Float32Array>, op: ReturnType<typeof bidirectional>) => {
  const out: Float32Array[][] = [];
  source.pipe(op).subscribe((w) => out.push(w));
  return out;
};
const expectClose = (got: Float32Array[][], want: Float32Array[][]) => {
  expect(got.length).toBe(want.length);
  got.forEach((w, i) => expect(closeWindows(w, want[i]!), `window ${i}`).toBe(true));
};

describe('bidirectional(): RxJS checklist', () => {
  const inputs = randomVectors(6, nX, 2);
  for (const kind of ['rnn', 'gru', 'lstm'] as const) {
    describe(`${kind} cells, window 3`, () => {
      const p = pair(kind, 10);
      const checks = rxChecklist({
        make: () => bidirectional(p.forward, p.reverse, { window: { size: 3 } }),
        inputs,
        perOutput: 3,
        expected: oracleWindows([p], chunks(inputs, 3), [3, 3]),
        equal: (a, b) => closeWindows(a, b),
        bad: { input: new Float32Array(2), message: /^bidirectional: input length 2, expected 3 at step 3$/ },
      });
      for (const [name, check] of Object.entries(checks)) it(name, check);
    });
  }
  describe('2-layer LSTM stack (layer 1 reads [forward | reverse]), merge sum, window 2', () => {
    const stack = new BidirectionalStack({ kind: 'lstm', inputSize: nX, hiddenSize: H, layers: 2, seed: 5 });
    const checks = rxChecklist({
      make: () => bidirectional(stack, { window: { size: 2 }, merge: 'sum' }),
      inputs,
      perOutput: 2,
      expected: oracleWindows(stack.cells, chunks(inputs, 2), [2, 2, 2], { merge: 'sum' }),
      equal: (a, b) => closeWindows(a, b),
      bad: {
        input: Float32Array.of(1, NaN, 0),
        message: /^bidirectional: input\[1\] must be a finite number, got NaN at step 2$/,
      },
    });
    for (const [name, check] of Object.entries(checks)) it(name, check);
  });
});

describe('bidirectional(): window modes', () => {
  const p = pair('gru', 20);
  const xs = randomVectors(7, nX, 3);

  it('flushes the partial window on complete and carries the forward state across windows', () => {
    const got = run(from(xs), bidirectional(p.forward, p.reverse, { window: { size: 3 } }));
    expect(got.map((w) => w.length)).toEqual([3, 3, 1]);
    expectClose(got, oracleWindows([p], chunks(xs, 3), [3, 3, 1]));
    // Without carrying, the second window's forward half starts from zeros: a different answer.
    const fresh = run(from(xs), bidirectional(p.forward, p.reverse, { window: { size: 3 }, carryState: false }));
    expectClose(fresh, oracleWindows([p], chunks(xs, 3), [3, 3, 1], { carry: false }));
    expect(closeWindows(fresh[1]!, got[1]!)).toBe(false);
  });

  it('overlaps windows by size − hop, carrying the forward state to the next start', () => {
    const got = run(from(xs.slice(0, 6)), bidirectional(p.forward, p.reverse, { window: { size: 3, hop: 2 } }));
    const windows = [xs.slice(0, 3), xs.slice(2, 5), xs.slice(4, 6)];
    expect(got.map((w) => w.length)).toEqual([3, 3, 2]);
    expectClose(got, oracleWindows([p], windows, [2, 2, 2]));
    // Sliding by one: one window per element once the first is full, none owed at the end.
    const slide = run(from(xs.slice(0, 5)), bidirectional(p.forward, p.reverse, { window: { size: 3, hop: 1 } }));
    expectClose(slide, oracleWindows([p], [xs.slice(0, 3), xs.slice(1, 4), xs.slice(2, 5)], [1, 1, 1]));
  });

  it('ends windows at a delimiter (inclusive), bounded by size', () => {
    const ends = new Set([1, 4]);
    const got = run(from(xs), bidirectional(p.forward, p.reverse, { window: { delimiter: (_x, i) => ends.has(i) } }));
    expectClose(got, oracleWindows([p], [xs.slice(0, 2), xs.slice(2, 5), xs.slice(5)], [2, 3, 2]));
    const capped = run(from(xs), bidirectional(p.forward, p.reverse, { window: { delimiter: () => false, size: 2 } }));
    expect(capped.map((w) => w.length)).toEqual([2, 2, 2, 1]);
  });

  it('merges per step (sum, mul, ave) and handles batch rows', () => {
    const B = 2;
    const xb = randomVectors(4, B * nX, 4);
    for (const merge of ['sum', 'mul', 'ave', 'concat'] as const) {
      const got = run(from(xb), bidirectional(p.forward, p.reverse, { window: { size: 2 }, merge, batch: B }));
      expect(got[0]![0]!.length).toBe(B * (merge === 'concat' ? 2 * H : H));
      expectClose(got, oracleWindows([p], chunks(xb, 2), [2, 2], { merge, B }));
    }
  });

  it('starts the forward direction once, and the reverse direction every window, from initialState', () => {
    const q = pair('lstm', 50);
    const init = randomVectors(1, 2 * 2 * H, 6)[0]!; // [forward h | c | reverse h | c], B = 1
    const got = run(
      from(xs.slice(0, 4)),
      bidirectional(q.forward, q.reverse, { window: { size: 2 }, initialState: init }),
    );
    const start = { forward: init.subarray(0, 2 * H), reverse: init.subarray(2 * H) };
    expectClose(got, oracleWindows([q], chunks(xs.slice(0, 4), 2), [2, 2], { init: [start] }));
    expect(
      closeWindows(
        got[0]!,
        run(from(xs.slice(0, 2)), bidirectional(q.forward, q.reverse, { window: { size: 2 } }))[0]!,
      ),
    ).toBe(false);
  });

  it("keeps interleaved subscriptions apart (their windows share the operator's scratch, not state)", () => {
    const op = bidirectional(p.forward, p.reverse, { window: { size: 2 } });
    const s1 = new Subject<Float32Array>();
    const s2 = new Subject<Float32Array>();
    const a: Float32Array[][] = [];
    const b: Float32Array[][] = [];
    s1.pipe(op).subscribe((w) => a.push(w));
    s2.pipe(op).subscribe((w) => b.push(w));
    const ys = randomVectors(4, nX, 7);
    for (let i = 0; i < 4; i++) {
      s1.next(xs[i]!);
      s2.next(ys[i]!);
    }
    expectClose(a, oracleWindows([p], chunks(xs.slice(0, 4), 2), [2, 2]));
    expectClose(b, oracleWindows([p], chunks(ys, 2), [2, 2]));
  });

  it('errors the stream when the parameters produce non-finite outputs, naming the step', () => {
    const q = pair('rnn', 30);
    q.reverse.params.fill(NaN);
    let error: unknown;
    from(xs)
      .pipe(bidirectional(q.forward, q.reverse, { window: { size: 3 } }))
      .subscribe({ error: (e) => (error = e) });
    expect((error as Error).message).toMatch(
      /^bidirectional: output\[4\] must be a finite number \(check the parameters\), got NaN at step 0/,
    );
  });
});

describe('bidirectional(): latency flush (marble tests)', () => {
  const p = pair('lstm', 40);
  const xs = randomVectors(6, nX, 5);
  const values = { a: xs[0]!, b: xs[1]!, c: xs[2]!, d: xs[3]!, e: xs[4]!, f: xs[5]! };
  const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const lengths = (opts: BidirectionalOptions['window']) => (s: Observable<Float32Array>) =>
    s.pipe(
      bidirectional(p.forward, p.reverse, { window: opts }),
      map((w) => w.length),
    );

  it('flushes a partial window maxLatency after its first element, then fills the next', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('ab 7ms cde|', values);
      expectObservable(source.pipe(lengths({ size: 3, maxLatency: 5, scheduler: ts }))).toBe('-----x-----y|', {
        x: 2,
        y: 3,
      });
    });
  });

  it('emits the same numbers as the oracle, at the scheduled times', () => {
    const ts = scheduler();
    const got: [number, Float32Array[]][] = [];
    ts.run(({ cold, flush }) => {
      cold('ab 7ms cde|', values)
        .pipe(bidirectional(p.forward, p.reverse, { window: { size: 3, maxLatency: 5, scheduler: ts } }))
        .subscribe((w) => got.push([ts.now(), w]));
      flush();
    });
    expect(got.map(([t]) => t)).toEqual([5, 11]);
    expectClose(
      got.map(([, w]) => w),
      oracleWindows([p], [xs.slice(0, 2), xs.slice(2, 5)], [2, 3]),
    );
  });

  it('cancels the timer when the window fills, and restarts it for the next element', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('abc d 9ms |', values).pipe(lengths({ size: 3, maxLatency: 4, scheduler: ts }))).toBe(
        '--x----y-----|',
        { x: 3, y: 1 },
      );
    });
  });

  it('flushes a delimiter window early and at the latency bound', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const isD = (x: Float32Array) => x === values.b;
      expectObservable(cold('abc 9ms |', values).pipe(lengths({ delimiter: isD, maxLatency: 3, scheduler: ts }))).toBe(
        '-x---y------|',
        { x: 2, y: 1 },
      );
    });
  });

  it('errors the stream at the flush time when a latency-flushed window fails', () => {
    const q = pair('gru', 60);
    q.forward.params.fill(NaN);
    const ts = scheduler();
    let at = -1;
    let message = '';
    ts.run(({ cold, flush }) => {
      cold('a 9ms |', values)
        .pipe(bidirectional(q.forward, q.reverse, { window: { size: 3, maxLatency: 3, scheduler: ts } }))
        .subscribe({
          error: (e) => {
            at = ts.now();
            message = (e as Error).message;
          },
        });
      flush();
    });
    expect(at).toBe(3);
    expect(message).toMatch(
      /^bidirectional: output\[0\] must be a finite number \(check the parameters\), got NaN at step 0/,
    );
  });

  it('tears the timer down on unsubscribe and on a source error', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a 9ms b', values).pipe(lengths({ size: 3, maxLatency: 5, scheduler: ts })), '^--!').toBe(
        '----',
      );
      expectObservable(cold('ab#', values).pipe(lengths({ size: 3, maxLatency: 5, scheduler: ts }))).toBe('--#');
      expectObservable(cold('ab|', values).pipe(lengths({ size: 3, maxLatency: 5, scheduler: ts }))).toBe('--(x|)', {
        x: 2,
      });
    });
  });
});
