import { describe, expect, it } from 'vitest';
import { CLIP_EPSILON, clipByGlobalNorm, NonFiniteGradientError } from '../src/index.js';
import { copies, hypotAll, maxAbsAll, randomTensors } from './helpers/random.js';

// float32 result of multiplying by a float64 coefficient, within one float32 ulp (the wasm kernel
// may round the coefficient to float32 first).
function expectScaled(after: Float32Array[], before: Float32Array[], coef: number): void {
  after.forEach((g, t) =>
    g.forEach((v, i) => {
      const want = before[t]![i]! * coef;
      expect(Math.abs(v - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -23 + 1e-45);
    }),
  );
}

describe('clipByGlobalNorm', () => {
  const lengths = [12, 5, 0, 33, 1];

  it('clips the L2 norm of all tensors together with the PyTorch coefficient', () => {
    const before = randomTensors(1, lengths);
    const grads = copies(before);
    const norm = hypotAll(before);
    const r = clipByGlobalNorm(grads, 1.5);
    expect(r.totalNorm).toBeCloseTo(norm, 12);
    const coef = 1.5 / (norm + 1e-6);
    expect(r.scale).toBeCloseTo(coef, 14);
    expect(r).toMatchObject({ clipped: true, skipped: false, zeroed: false, nonFinite: null });
    expectScaled(grads, before, coef);
    // The epsilon leaves the clipped norm just below maxNorm.
    const after = hypotAll(grads);
    expect(after).toBeLessThan(1.5);
    expect(after).toBeCloseTo(1.5, 5);
  });

  it('clips by the max norm with normType Infinity', () => {
    const before = randomTensors(2, lengths);
    const grads = copies(before);
    const r = clipByGlobalNorm(grads, 0.25, { normType: Infinity });
    expect(r.totalNorm).toBe(maxAbsAll(before));
    expectScaled(grads, before, 0.25 / (maxAbsAll(before) + CLIP_EPSILON));
    expect(r.clipped).toBe(true);
  });

  it('leaves gradients bit-identical when the norm is within maxNorm', () => {
    const before = randomTensors(3, lengths);
    const grads = copies(before);
    const r = clipByGlobalNorm(grads, hypotAll(before) * 2);
    expect(r).toMatchObject({ scale: 1, clipped: false });
    expect(grads).toEqual(before);
  });

  it('a norm exactly at maxNorm is still scaled by maxNorm/(norm+1e-6), as in PyTorch', () => {
    const grads = [new Float32Array([3, 4])];
    const r = clipByGlobalNorm(grads, 5);
    expect(r.totalNorm).toBe(5);
    expect(r.clipped).toBe(true);
    expect(r.scale).toBe(5 / (5 + 1e-6));
  });

  it('accepts one flat Float32Array and gives the same result as its views', () => {
    const flat = randomTensors(4, [50])[0]!;
    const viewsBuf = flat.slice();
    const views = [viewsBuf.subarray(0, 20), viewsBuf.subarray(20, 50)];
    const a = clipByGlobalNorm(flat, 2);
    const b = clipByGlobalNorm(views, 2);
    expect(a.totalNorm).toBeCloseTo(b.totalNorm, 13);
    expect(flat).toEqual(viewsBuf);
  });

  it('keeps all-zero gradients zero and an empty list at norm 0', () => {
    const grads = [new Float32Array(4), new Float32Array(3)];
    expect(clipByGlobalNorm(grads, 0.5)).toMatchObject({ totalNorm: 0, clipped: false });
    expect(grads.every((g) => g.every((v) => v === 0 && !Object.is(v, -0)))).toBe(true);
    expect(clipByGlobalNorm([], 1)).toMatchObject({ totalNorm: 0, scale: 1, clipped: false });
  });

  it('accumulates in float64: many small squares are not lost', () => {
    // 2^20 elements of 1e-4: a float32 running sum of squares stalls; float64 does not.
    const g = new Float32Array(1 << 20).fill(1e-4);
    const r = clipByGlobalNorm(g, 10);
    // float32 accumulation would be off by percents here; float64 stays within ~1e-11.
    expect(Math.abs(r.totalNorm / (Math.fround(1e-4) * 1024) - 1)).toBeLessThan(1e-9);
  });

  it('rejects bad maxNorm, normType and gradients naming what arrived', () => {
    const g = new Float32Array(2);
    expect(() => clipByGlobalNorm(g, 0)).toThrow(
      new RangeError('clipByGlobalNorm: maxNorm must be a finite number > 0, got 0'),
    );
    expect(() => clipByGlobalNorm(g, -1)).toThrow(RangeError);
    expect(() => clipByGlobalNorm(g, NaN)).toThrow(/maxNorm must be a finite number > 0, got NaN/);
    expect(() => clipByGlobalNorm(g, Infinity)).toThrow(RangeError);
    expect(() => clipByGlobalNorm(g, 1, { normType: 1 })).toThrow(/normType must be 2 or Infinity, got 1/);
    expect(() => clipByGlobalNorm(g, 1, { nonFinite: 'ignore' as never })).toThrow(
      /nonFinite must be 'error', 'skip' or 'zero', got "ignore"/,
    );
    expect(() => clipByGlobalNorm(new Float64Array(2) as never, 1)).toThrow(
      new TypeError('clipByGlobalNorm: grads must be a Float32Array or an array of Float32Arrays, got a Float64Array'),
    );
    expect(() => clipByGlobalNorm([g, [1, 2]] as never, 1)).toThrow(
      /grads\[1\] must be a Float32Array, got an array of length 2/,
    );
  });
});

describe('clipByGlobalNorm non-finite policy', () => {
  const bad = (): Float32Array[] => [new Float32Array([1, 2]), new Float32Array([3, NaN, Infinity])];

  it("'error' (default) throws naming the tensor and first bad index, gradients untouched", () => {
    const grads = bad();
    let caught: unknown;
    try {
      clipByGlobalNorm(grads, 0.1);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NonFiniteGradientError);
    expect(caught).toBeInstanceOf(RangeError);
    expect(caught).toMatchObject({
      tensor: 1,
      index: 1,
      message: expect.stringMatching(/tensor 1 holds NaN at index 1/),
    });
    expect(grads[0]).toEqual(new Float32Array([1, 2]));
  });

  it("'skip' leaves gradients untouched and reports it", () => {
    const grads = bad();
    const r = clipByGlobalNorm(grads, 0.1, { nonFinite: 'skip' });
    expect(r).toMatchObject({
      skipped: true,
      zeroed: false,
      clipped: false,
      scale: 1,
      nonFinite: { tensor: 1, index: 1 },
    });
    expect(Number.isNaN(r.totalNorm)).toBe(true);
    expect(Array.from(grads[1]!)).toEqual([3, NaN, Infinity]);
  });

  it("'zero' zeroes every tensor and reports it", () => {
    const grads = bad();
    const r = clipByGlobalNorm(grads, 0.1, { nonFinite: 'zero', normType: Infinity });
    expect(r).toMatchObject({ zeroed: true, skipped: false, scale: 0 });
    expect(grads.every((g) => g.every((v) => v === 0))).toBe(true);
  });

  it('finds Infinity with the inf norm too, and reports it as the norm', () => {
    const grads = [new Float32Array([1, -Infinity])];
    const r = clipByGlobalNorm(grads, 1, { normType: Infinity, nonFinite: 'skip' });
    expect(r.totalNorm).toBe(Infinity);
    expect(r.nonFinite).toEqual({ tensor: 0, index: 1, value: -Infinity });
  });

  it('a NaN followed by finite values is caught by the inf norm too', () => {
    // Regression: a max that lets a later element replace NaN would report norm 1 and clip.
    for (const grads of [
      [new Float32Array([NaN, 1])],
      [new Float32Array([0.5]), new Float32Array([NaN]), new Float32Array([2])],
    ]) {
      const r = clipByGlobalNorm(grads, 1, { normType: Infinity, nonFinite: 'skip' });
      expect(r.skipped).toBe(true);
      expect(Number.isNaN(r.totalNorm)).toBe(true);
    }
    expect(() => clipByGlobalNorm(new Float32Array([NaN, 1]), 1, { normType: Infinity })).toThrow(
      NonFiniteGradientError,
    );
  });

  it('huge but finite float32 gradients do not count as non-finite (float64 squares)', () => {
    const grads = new Float32Array([3e38, -3e38]);
    const r = clipByGlobalNorm(grads, 1);
    expect(r.totalNorm / Math.hypot(Math.fround(3e38), Math.fround(3e38))).toBeCloseTo(1, 12);
    expect(Number.isFinite(r.totalNorm)).toBe(true);
    expect(grads.every(Number.isFinite)).toBe(true);
  });
});
