import { EMPTY, NEVER, Observable, Subject, from, lastValueFrom, mergeMap, of, take, throwError, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { ClipGradientsEvent } from '../../src/index.js';
import { NonFiniteGradientError, clipByGlobalNorm, clipGradients } from '../../src/index.js';
import { copies, randomTensors } from '../helpers/random.js';

describe('clipGradients', () => {
  it('basic values: clips each set in place and emits the same reference with its report', async () => {
    const sets = [randomTensors(10, [8, 3]), randomTensors(11, [8, 3], 0.01)];
    const oracle = sets.map((s) => {
      const c = copies(s);
      return { result: clipByGlobalNorm(c, 1), after: c };
    });
    const events = await lastValueFrom(from(sets).pipe(clipGradients({ maxNorm: 1 }), toArray()));
    expect(events.map((e) => e.step)).toEqual([0, 1]);
    events.forEach((e, k) => {
      expect(e.grads).toBe(sets[k]);
      expect(e.grads).toEqual(oracle[k]!.after);
      expect(e).toMatchObject({ totalNorm: oracle[k]!.result.totalNorm, scale: oracle[k]!.result.scale });
    });
    expect(events.map((e) => e.clipped)).toEqual([true, false]);
  });

  it('mutates the very buffer the source sent (in place, no copy)', () => {
    const flat = new Float32Array([30, 40]);
    let seen: ClipGradientsEvent<Float32Array> | undefined;
    of(flat).pipe(clipGradients<Float32Array>({ maxNorm: 5 })).subscribe((e) => (seen = e));
    expect(seen!.grads).toBe(flat);
    expect(flat[0]).toBeCloseTo(3, 5);
    expect(flat[1]).toBeCloseTo(4, 5);
    expect(seen!.totalNorm).toBe(50);
  });

  it('counts steps per subscription', async () => {
    const op = of(new Float32Array([1]), new Float32Array([2])).pipe(clipGradients({ maxNorm: 1 }));
    const a = await lastValueFrom(op.pipe(toArray()));
    const b = await lastValueFrom(op.pipe(toArray()));
    expect(a.map((e) => e.step)).toEqual([0, 1]);
    expect(b.map((e) => e.step)).toEqual([0, 1]);
  });

  it('error in the source is passed through', () => {
    let error: unknown;
    throwError(() => new Error('boom')).pipe(clipGradients({ maxNorm: 1 })).subscribe({ error: (e) => (error = e) });
    expect(error).toEqual(new Error('boom'));
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
    expect(errors[1]).toEqual(new TypeError('clipGradients: grads is string, expected a Float32Array or an array of Float32Array at step 0'));
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
    expect(() => clipGradients({ maxNorm: 0 })).toThrow(/clipGradients: maxNorm is the number 0/);
    expect(() => clipGradients(undefined as never)).toThrow(TypeError);
    expect(() => clipGradients({ maxNorm: 1, normType: 3 })).toThrow(/clipGradients: normType/);
  });

  it('empty source completes without emitting', () => {
    const seen: string[] = [];
    EMPTY.pipe(clipGradients({ maxNorm: 1 })).subscribe({ next: () => seen.push('next'), complete: () => seen.push('complete') });
    expect(seen).toEqual(['complete']);
  });

  it('never-emitting source neither emits nor completes', () => {
    const seen: string[] = [];
    const sub = NEVER.pipe(clipGradients({ maxNorm: 1 })).subscribe({ next: () => seen.push('next'), complete: () => seen.push('complete') });
    expect(seen).toEqual([]);
    sub.unsubscribe();
  });

  it('early unsubscribe stops processing and releases the source', () => {
    const source = new Subject<Float32Array>();
    const seen: number[] = [];
    const sub = source.pipe(clipGradients({ maxNorm: 1 })).subscribe((e) => seen.push(e.step));
    source.next(new Float32Array([2]));
    sub.unsubscribe();
    expect(source.observed).toBe(false);
    const late = new Float32Array([2]);
    source.next(late);
    expect(seen).toEqual([0]);
    expect(late[0]).toBe(2);
  });

  it('does not break unsubscription chains', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ hot, expectObservable, expectSubscriptions }) => {
      const g = new Float32Array([0.5]);
      const e1 = hot('--a--b--c--|', { a: g, b: g, c: g });
      const subs = '  ^------!    ';
      const result = e1.pipe(
        mergeMap((x) => of(x)),
        clipGradients({ maxNorm: 1 }),
        mergeMap((x) => of(x.step)),
      );
      expectObservable(result, subs).toBe('--a--b---', { a: 0, b: 1 });
      expectSubscriptions(e1.subscriptions).toBe(subs);
    });
  });

  it('stops a synchronous source on unsubscribe', () => {
    let produced = 0;
    const source = new Observable<Float32Array>((subscriber) => {
      for (let i = 0; i < 1000 && !subscriber.closed; i++) {
        produced++;
        subscriber.next(new Float32Array([i]));
      }
    });
    source.pipe(clipGradients({ maxNorm: 1 }), take(3)).subscribe();
    expect(produced).toBe(3);
  });
});
