// The checklist itself must be able to fail: a correct operator passes every check, and each
// deliberately broken operator below trips the check written to catch it.
import { bufferCount, delay, filter, map, Observable, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type RxChecklistCase, rxChecklist } from './rx-checklist.js';

const double = (): OperatorFunction<number, number> =>
  map((x) => {
    if (!Number.isFinite(x)) throw new RangeError(`double: value ${x}, expected a finite number`);
    return 2 * x;
  });

const base: RxChecklistCase<number, number> = {
  make: double,
  inputs: [1, 2, 3],
  expected: [2, 4, 6],
  bad: { input: NaN, message: /expected a finite number/ },
};

// One output per window of 2 inputs (the partial window at the end is dropped).
const pairSums = (): OperatorFunction<number, number> => (source) =>
  source.pipe(
    map((x) => {
      if (!Number.isFinite(x)) throw new RangeError(`pairSums: value ${x}, expected a finite number`);
      return x;
    }),
    bufferCount(2),
    filter((b) => b.length === 2),
    map(([a, b]) => a! + b!),
  );

describe('rxChecklist', () => {
  for (const [name, check] of Object.entries(rxChecklist(base))) it(`passes a correct operator: ${name}`, check);
  for (const [name, check] of Object.entries(
    rxChecklist({ ...base, make: pairSums, inputs: [1, 2, 3, 4], perOutput: 2, expected: [3, 7] }),
  )) {
    it(`passes a correct per-window operator: ${name}`, check);
  }
  // delay() queues whatever a synchronous source pushes, so that check is not for it.
  const later = () => (source: Observable<number>) => source.pipe(double(), delay(1));
  for (const [name, check] of Object.entries(rxChecklist({ ...base, make: later, asynchronous: true }))) {
    if (name !== 'stops a synchronous source on unsubscribe')
      it(`passes a correct asynchronous operator: ${name}`, check);
  }

  it('catches wrong values', async () => {
    const checks = rxChecklist({ ...base, expected: [2, 4, 7] });
    await expect(checks['emits the expected values, never mutates them afterwards, and completes']!()).rejects.toThrow(
      /value 2 is 6, expected 7/,
    );
  });

  it('catches state kept in the factory instead of per subscription', async () => {
    const sharedCounter = (): OperatorFunction<number, number> => {
      let n = 0;
      return map((x) => 2 * x + 0 * n++ + (n > 3 ? 1 : 0));
    };
    const checks = rxChecklist({ ...base, make: sharedCounter });
    await expect(checks['gives every subscription its own state (cold)']!()).rejects.toThrow(/second subscription/);
  });

  it('catches mutation of emitted values', async () => {
    const reuse = (): OperatorFunction<Float32Array, Float32Array> => {
      const out = new Float32Array(1);
      return map((x) => {
        if (!Number.isFinite(x[0]!)) throw new RangeError('reuse: expected a finite number');
        out[0] = x[0]! * 2;
        return out;
      });
    };
    const f = (v: number): Float32Array => Float32Array.of(v);
    const checks = rxChecklist({
      make: reuse,
      inputs: [f(1), f(2)],
      expected: [f(2), f(4)],
      bad: { input: f(NaN), message: /finite/ },
    });
    await expect(checks['emits the expected values, never mutates them afterwards, and completes']!()).rejects.toThrow(
      /changed after emission|value 0/,
    );
  });

  it('catches an operator that swallows errors and drops its upstream subscription', async () => {
    const leaky = (): OperatorFunction<number, number> => (source) =>
      new Observable<number>((s) => {
        source.subscribe({ next: (x) => s.next(2 * x), error: () => undefined, complete: () => s.complete() });
      });
    const checks = rxChecklist({ ...base, make: leaky });
    await expect(checks['forwards an error from the source (dropping a partial window)']!()).rejects.toThrow(
      /expected the source's error/,
    );
    await expect(checks['errors the stream on a bad input, naming what was expected']!()).rejects.toThrow();
    await expect(checks['stops on early unsubscribe']!()).rejects.toThrow(/still subscribed/);
    await expect(checks['does not break unsubscription chains']!()).rejects.toThrow(/did not reach the source/);
    await expect(checks['stops a synchronous source on unsubscribe']!()).rejects.toThrow(/expected it to stop after 2/);
  });

  it('catches an operator that emits on empty and never-emitting sources', async () => {
    const chatty = (): OperatorFunction<number, number> => (source) =>
      new Observable<number>((s) => {
        s.next(0);
        return source.subscribe(s);
      });
    const checks = rxChecklist({ ...base, make: chatty });
    await expect(checks['completes on an empty source without emitting']!()).rejects.toThrow(/bare completion/);
    await expect(checks['neither emits nor ends on a never-emitting source']!()).rejects.toThrow(/silence/);
  });
});
