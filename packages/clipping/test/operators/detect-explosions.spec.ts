import { from, lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import type { ExplosionVerdict } from '../../src/index.js';
import { detectExplosions } from '../../src/index.js';

// Oracle: the documented rule computed the slow, obvious way (filter + sort the whole history).
function oracle(norms: number[], factor: number, window: number, warmup: number): ExplosionVerdict[] {
  return norms.map((norm, step) => {
    const finite = norms.slice(0, step).filter(Number.isFinite);
    const recent = finite.slice(-window).sort((a, b) => a - b);
    const m = recent.length;
    const level = m === 0 ? null : m % 2 ? recent[(m - 1) / 2]! : (recent[m / 2 - 1]! + recent[m / 2]!) / 2;
    const exploding = !Number.isFinite(norm) || (finite.length >= warmup && level !== null && norm > factor * level);
    return { step, norm, level, exploding };
  });
}

const run = (norms: number[], opts: Parameters<typeof detectExplosions>[0]) =>
  lastValueFrom(from(norms).pipe(detectExplosions(opts), toArray()));

describe('detectExplosions', () => {
  describe('RxJS checklist', () => {
    // Window 2, warmup 2: the third norm explodes, so state per subscription shows in the output.
    const norms = [1, 1, 100, 20];
    const checks = rxChecklist({
      make: () => detectExplosions({ window: 2, warmup: 2 }),
      inputs: norms,
      expected: oracle(norms, 10, 2, 2),
      bad: {
        input: -2,
        message: /^detectExplosions: norm must be a number >= 0 or NaN\/Infinity, got -2 at step 1$/,
      },
    });
    for (const [name, check] of Object.entries(checks)) it(name, check);
  });

  it('flags a spike above factor × median after warmup, and non-finite norms always', async () => {
    const norms = [1, 1.2, 0.9, 50, 1.1, 1, NaN, 0.8, 30, Infinity, 1];
    const got = await run(norms, { factor: 10, window: 4, warmup: 3 });
    expect(got).toEqual(oracle(norms, 10, 4, 3));
    expect(got.filter((v) => v.exploding).map((v) => v.step)).toEqual([3, 6, 8, 9]);
    expect(got[3]!.level).toBe(1);
  });

  it('matches the rule on a long random walk with spikes (ring buffer wraps many times)', async () => {
    let x = 1;
    let seed = 7;
    const norms = Array.from({ length: 400 }, (_, i) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      x *= Math.exp((seed / 2147483648 - 0.5) * 0.2);
      return i % 37 === 36 ? x * 40 : i % 91 === 90 ? NaN : x;
    });
    for (const [factor, window, warmup] of [
      [5, 7, 3],
      [10, 20, 20],
      [2, 1, 1],
    ] as const) {
      expect(await run(norms, { factor, window, warmup })).toEqual(oracle(norms, factor, window, warmup));
    }
  });

  it('nothing finite flags during warmup; defaults are factor 10, window 20, warmup 20', async () => {
    const norms = [1, ...Array(18).fill(1), 100, 100];
    const got = await run(norms, {});
    expect(got.map((v) => v.exploding)).toEqual([...Array(20).fill(false), true]);
  });

  it('our own errors name the operator and the step; options fail at creation', () => {
    let error: unknown;
    of(1, -2)
      .pipe(detectExplosions())
      .subscribe({ error: (e) => (error = e) });
    expect(error).toEqual(
      new RangeError('detectExplosions: norm must be a number >= 0 or NaN/Infinity, got -2 at step 1'),
    );
    of('1' as unknown as number)
      .pipe(detectExplosions())
      .subscribe({ error: (e) => (error = e) });
    expect((error as Error).message).toMatch(/norm must be a number >= 0 or NaN\/Infinity, got "1" at step 0/);
    expect(() => detectExplosions({ window: 0 })).toThrow(/window must be a positive integer, got 0/);
    expect(() => detectExplosions({ warmup: 1.5 })).toThrow(RangeError);
    expect(() => detectExplosions({ factor: NaN })).toThrow(/factor must be a finite number > 0, got NaN/);
  });
});
