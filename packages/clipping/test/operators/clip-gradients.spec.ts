import { from, lastValueFrom, of, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { deepEqual, rxChecklist } from '../../../../test/support/rx-checklist.js';
import type { ClipGradientsEvent } from '../../src/index.js';
import { clipByGlobalNorm, clipGradients, NonFiniteGradientError } from '../../src/index.js';
import { copies, randomTensors } from '../helpers/random.js';

describe('clipGradients', () => {
  describe('RxJS checklist', () => {
    // The second set is small enough to pass unclipped.
    const sets = [randomTensors(10, [8, 3]), randomTensors(11, [8, 3], 0.01)];
    const expected = sets.map((s, step) => {
      const after = copies(s);
      const { totalNorm, scale } = clipByGlobalNorm(after, 1);
      return { step, grads: after, totalNorm, scale, clipped: step === 0 };
    });
    const checks = rxChecklist({
      make: () => clipGradients<Float32Array[]>({ maxNorm: 1 }),
      inputs: sets,
      // The operator clips in place: every check gets its own copy of the sets.
      fresh: copies,
      expected,
      equal: (got: ClipGradientsEvent<Float32Array[]>, want: (typeof expected)[number]) =>
        got.step === want.step &&
        got.totalNorm === want.totalNorm &&
        got.scale === want.scale &&
        got.clipped === want.clipped &&
        deepEqual(got.grads, want.grads),
      bad: {
        input: [Float32Array.of(1, NaN)],
        message:
          /^clipGradients: gradient tensor 0 holds NaN at index 1, expected finite values \(nonFinite: 'error'\) at step 1$/,
      },
    });
    for (const [name, check] of Object.entries(checks)) it(name, check);
  });

  it('mutates the very buffer the source sent (in place, no copy)', () => {
    const flat = new Float32Array([30, 40]);
    let seen: ClipGradientsEvent<Float32Array> | undefined;
    of(flat)
      .pipe(clipGradients<Float32Array>({ maxNorm: 5 }))
      .subscribe((e) => (seen = e));
    expect(seen!.grads).toBe(flat);
    expect(flat[0]).toBeCloseTo(3, 5);
    expect(flat[1]).toBeCloseTo(4, 5);
    expect(seen!.totalNorm).toBe(50);
  });

  it('our own errors name the operator and the step', () => {
    const errors: unknown[] = [];
    const values: number[] = [];
    of(new Float32Array([1]), new Float32Array([1, NaN]), new Float32Array([2]))
      .pipe(clipGradients({ maxNorm: 1 }))
      .subscribe({ next: (e) => values.push(e.step), error: (e) => errors.push(e) });
    expect(values).toEqual([0]);
    expect(errors[0]).toBeInstanceOf(NonFiniteGradientError);
    expect((errors[0] as Error).message).toBe(
      "clipGradients: gradient tensor 0 holds NaN at index 1, expected finite values (nonFinite: 'error') at step 1",
    );
    of('nope' as unknown as Float32Array)
      .pipe(clipGradients({ maxNorm: 1 }))
      .subscribe({ error: (e) => errors.push(e) });
    expect(errors[1]).toEqual(
      new TypeError('clipGradients: grads must be a Float32Array or an array of Float32Arrays, got "nope" at step 0'),
    );
  });

  it("policies 'skip' and 'zero' keep the stream alive and report", async () => {
    const make = () => [new Float32Array([Infinity, 1]), new Float32Array([3, 4])];
    const skip = await lastValueFrom(from(make()).pipe(clipGradients({ maxNorm: 1, nonFinite: 'skip' }), toArray()));
    expect(skip.map((e) => e.skipped)).toEqual([true, false]);
    expect(skip[0]!.grads[0]).toBe(Infinity);
    const zero = await lastValueFrom(from(make()).pipe(clipGradients({ maxNorm: 1, nonFinite: 'zero' }), toArray()));
    expect(zero[0]!.zeroed).toBe(true);
    expect(Array.from(zero[0]!.grads)).toEqual([0, 0]);
  });

  it('rejects bad options when the operator is created', () => {
    expect(() => clipGradients({ maxNorm: 0 })).toThrow(/clipGradients: maxNorm must be a finite number > 0, got 0/);
    expect(() => clipGradients(undefined as never)).toThrow(TypeError);
    expect(() => clipGradients({ maxNorm: 1, normType: 3 })).toThrow(/clipGradients: normType/);
  });

  it('leaves inputs alone after early unsubscribe', () => {
    const source = new Subject<Float32Array>();
    const sub = source.pipe(clipGradients({ maxNorm: 1 })).subscribe();
    source.next(new Float32Array([2]));
    sub.unsubscribe();
    const late = new Float32Array([2]);
    source.next(late);
    expect(late[0]).toBe(2);
  });
});
