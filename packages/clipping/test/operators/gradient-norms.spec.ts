import { from, lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { gradientNorms } from '../../src/index.js';
import { copies, hypotAll, maxAbsAll, randomTensors } from '../helpers/random.js';

describe('gradientNorms', () => {
  describe('RxJS checklist', () => {
    const sets = [randomTensors(20, [5, 9]), randomTensors(21, [14], 30), [Float32Array.of(3, 4)]];
    const checks = rxChecklist({
      make: () => gradientNorms(),
      inputs: sets,
      expected: sets.map(hypotAll),
      // As toBeCloseTo(…, 10): the operator accumulates in float64, the oracle uses Math.hypot.
      equal: (got, want) => Math.abs(got - want) < 5e-11,
      bad: {
        input: [new Float32Array(1), new Float64Array(1)] as never,
        message: /^gradientNorms: grads\[1\] must be a Float32Array, got a Float64Array at step 1$/,
      },
    });
    for (const [name, check] of Object.entries(checks)) it(name, check);
  });

  it('basic values: emits each total norm and does not mutate', async () => {
    const sets = [randomTensors(20, [5, 9]), randomTensors(21, [14], 30)];
    const before = sets.map(copies);
    const norms = await lastValueFrom(from(sets).pipe(gradientNorms(), toArray()));
    norms.forEach((n, k) => expect(n).toBeCloseTo(hypotAll(before[k]!), 10));
    expect(sets).toEqual(before);
    const inf = await lastValueFrom(from(sets).pipe(gradientNorms({ normType: Infinity }), toArray()));
    expect(inf).toEqual(before.map(maxAbsAll));
  });

  it('passes non-finite norms through for monitoring', async () => {
    const sets = [new Float32Array([NaN, 1]), new Float32Array([Infinity, 2])];
    expect(await lastValueFrom(from(sets).pipe(gradientNorms(), toArray()))).toEqual([NaN, Infinity]);
    expect(await lastValueFrom(from(sets).pipe(gradientNorms({ normType: Infinity }), toArray()))).toEqual([
      NaN,
      Infinity,
    ]);
  });

  it('our own errors name the operator and the step', () => {
    let error: unknown;
    of(new Float32Array(1), [new Float32Array(1), new Float64Array(1)] as never)
      .pipe(gradientNorms())
      .subscribe({ error: (e) => (error = e) });
    expect(error).toEqual(
      new TypeError('gradientNorms: grads[1] must be a Float32Array, got a Float64Array at step 1'),
    );
    expect(() => gradientNorms({ normType: 1 })).toThrow(/gradientNorms: normType must be 2 or Infinity, got 1/);
  });
});
