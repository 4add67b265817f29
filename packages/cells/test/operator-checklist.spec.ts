// The checklist itself must be able to fail: a correct operator passes every check, and each
// deliberately broken operator below trips the check written to catch it.
import { map, Observable, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { operatorChecklist, type ChecklistCase } from './support/operator-checklist.js';

const double = (): OperatorFunction<number, number> =>
  map((x) => {
    if (!Number.isFinite(x)) throw new RangeError(`double: value ${x}, expected a finite number`);
    return 2 * x;
  });

const base: ChecklistCase<number, number> = {
  make: double,
  inputs: [1, 2, 3],
  expected: [2, 4, 6],
  bad: { input: NaN, message: /expected a finite number/ },
};

describe('operatorChecklist', () => {
  for (const [name, check] of Object.entries(operatorChecklist(base))) it(`passes a correct operator: ${name}`, check);

  it('catches wrong values', () => {
    const checks = operatorChecklist({ ...base, expected: [2, 4, 7] });
    expect(() => checks['emits the expected values, never mutates them afterwards, and completes']!()).toThrow(/value 2 is 6, expected 7/);
  });

  it('catches state kept in the factory instead of per subscription', () => {
    const sharedCounter = (): OperatorFunction<number, number> => {
      let n = 0;
      return map((x) => 2 * x + 0 * n++ + (n > 3 ? 1 : 0));
    };
    const checks = operatorChecklist({ ...base, make: sharedCounter });
    expect(() => checks['gives every subscription its own state (cold)']!()).toThrow(/second subscription/);
  });

  it('catches mutation of emitted values', () => {
    const reuse = (): OperatorFunction<Float32Array, Float32Array> => {
      const out = new Float32Array(1);
      return map((x) => {
        if (!Number.isFinite(x[0]!)) throw new RangeError('reuse: expected a finite number');
        out[0] = x[0]! * 2;
        return out;
      });
    };
    const f = (v: number): Float32Array => Float32Array.of(v);
    const checks = operatorChecklist({ make: reuse, inputs: [f(1), f(2)], expected: [f(2), f(4)], bad: { input: f(NaN), message: /finite/ } });
    expect(() => checks['emits the expected values, never mutates them afterwards, and completes']!()).toThrow(/changed after emission|value 0/);
  });

  it('catches an operator that swallows errors and drops its upstream subscription', () => {
    const leaky = (): OperatorFunction<number, number> => (source) =>
      new Observable<number>((s) => {
        source.subscribe({ next: (x) => s.next(2 * x), error: () => undefined, complete: () => s.complete() });
      });
    const checks = operatorChecklist({ ...base, make: leaky });
    expect(() => checks['forwards an error from the source']!()).toThrow(/expected the source's error/);
    expect(() => checks['errors the stream on a bad input, naming what was expected']!()).toThrow();
    expect(() => checks['stops on early unsubscribe']!()).toThrow(/still subscribed/);
    expect(() => checks['does not break unsubscription chains']!()).toThrow(/did not reach the source/);
    expect(() => checks['stops a synchronous source on unsubscribe']!()).toThrow(/expected it to stop after 2/);
  });

  it('catches an operator that emits on empty and never-emitting sources', () => {
    const chatty = (): OperatorFunction<number, number> => (source) =>
      new Observable<number>((s) => {
        s.next(0);
        return source.subscribe(s);
      });
    const checks = operatorChecklist({ ...base, make: chatty });
    expect(() => checks['completes on an empty source without emitting']!()).toThrow(/bare completion/);
    expect(() => checks['neither emits nor ends on a never-emitting source']!()).toThrow(/silence/);
  });
});
