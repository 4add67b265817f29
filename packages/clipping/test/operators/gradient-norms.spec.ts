import { EMPTY, NEVER, Observable, Subject, from, lastValueFrom, mergeMap, of, take, throwError, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { gradientNorms } from '../../src/index.js';
import { copies, hypotAll, maxAbsAll, randomTensors } from '../helpers/random.js';

describe('gradientNorms', () => {
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
    expect(await lastValueFrom(from(sets).pipe(gradientNorms({ normType: Infinity }), toArray()))).toEqual([NaN, Infinity]);
  });

  it('error in the source is passed through', () => {
    let error: unknown;
    throwError(() => new Error('boom')).pipe(gradientNorms()).subscribe({ error: (e) => (error = e) });
    expect(error).toEqual(new Error('boom'));
  });

  it('our own errors name the operator and the step', () => {
    let error: unknown;
    of(new Float32Array(1), [new Float32Array(1), new Float64Array(1)] as never)
      .pipe(gradientNorms())
      .subscribe({ error: (e) => (error = e) });
    expect(error).toEqual(new TypeError('gradientNorms: grads[1] is Float64Array, expected a Float32Array at step 1'));
    expect(() => gradientNorms({ normType: 1 })).toThrow(/gradientNorms: normType is the number 1/);
  });

  it('empty source completes; never-emitting source stays silent', () => {
    const seen: string[] = [];
    EMPTY.pipe(gradientNorms()).subscribe({ complete: () => seen.push('complete') });
    const sub = NEVER.pipe(gradientNorms()).subscribe({ next: () => seen.push('next'), complete: () => seen.push('never-complete') });
    sub.unsubscribe();
    expect(seen).toEqual(['complete']);
  });

  it('early unsubscribe releases the source', () => {
    const source = new Subject<Float32Array>();
    const seen: number[] = [];
    const sub = source.pipe(gradientNorms()).subscribe((n) => seen.push(n));
    source.next(new Float32Array([3, 4]));
    sub.unsubscribe();
    source.next(new Float32Array([1]));
    expect(seen).toEqual([5]);
    expect(source.observed).toBe(false);
  });

  it('does not break unsubscription chains', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('--a--b--c--|', { a: new Float32Array([3, 4]), b: new Float32Array([1]), c: new Float32Array([2]) });
      const subs = '  ^------!    ';
      const result = e1.pipe(mergeMap((x) => of(x)), gradientNorms(), mergeMap((x) => of(x)));
      expectObservable(result, subs).toBe('--a--b---', { a: 5, b: 1 });
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
    source.pipe(gradientNorms(), take(2)).subscribe();
    expect(produced).toBe(2);
  });
});
