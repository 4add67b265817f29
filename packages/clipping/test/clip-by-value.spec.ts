import { describe, expect, it } from 'vitest';
import { clipByValue, NonFiniteGradientError } from '../src/index.js';
import { copies, randomTensors } from './helpers/random.js';

describe('clipByValue', () => {
  it('clamps each element to [-limit, limit] and counts the clamped ones', () => {
    const before = randomTensors(5, [40, 7], 4);
    const grads = copies(before);
    const r = clipByValue(grads, 5);
    let want = 0;
    before.forEach((g, t) =>
      g.forEach((v, i) => {
        const clamped = Math.min(5, Math.max(-5, v));
        if (clamped !== v) want++;
        expect(grads[t]![i]).toBe(clamped);
      }),
    );
    expect(want).toBeGreaterThan(0);
    expect(r).toMatchObject({ clippedCount: want, clipped: true, skipped: false, nonFinite: null });
  });

  it('does not count an element equal to the float32 bound', () => {
    const g = new Float32Array([0.1, -0.1, 0.05]);
    expect(clipByValue(g, 0.1)).toMatchObject({ clippedCount: 0, clipped: false });
    expect(g).toEqual(new Float32Array([0.1, -0.1, 0.05]));
  });

  it('applies the non-finite policy before writing anything', () => {
    const make = (): Float32Array[] => [new Float32Array([9, -9]), new Float32Array([-Infinity])];
    expect(() => clipByValue(make(), 1)).toThrow(NonFiniteGradientError);
    expect(() => clipByValue(make(), 1)).toThrow(/clipByValue: gradient tensor 1 holds -Infinity at index 0/);
    const skipped = make();
    expect(clipByValue(skipped, 1, { nonFinite: 'skip' })).toMatchObject({ skipped: true, clippedCount: 0 });
    expect(skipped[0]).toEqual(new Float32Array([9, -9]));
    const zeroed = make();
    expect(clipByValue(zeroed, 1, { nonFinite: 'zero' })).toMatchObject({ zeroed: true });
    expect(zeroed.every((g) => g.every((v) => v === 0))).toBe(true);
  });

  it('rejects a bad limit', () => {
    expect(() => clipByValue(new Float32Array(1), 0)).toThrow(/clipByValue: limit must be a finite number > 0, got 0/);
    expect(() => clipByValue(new Float32Array(1), '5' as never)).toThrow(RangeError);
    expect(() => clipByValue('x' as never, 5)).toThrow(TypeError);
  });
});
