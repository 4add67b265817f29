import { describe, expect, it } from 'vitest';
import { clipByGlobalNorm, clipByNorm } from '../src/index.js';
import { copies, hypotAll, randomTensors } from './helpers/random.js';

describe('clipByNorm (per tensor)', () => {
  it('scales only the tensors above maxNorm, each to norm maxNorm', () => {
    const before = [...randomTensors(6, [30], 1), ...randomTensors(7, [30], 0.05), ...randomTensors(8, [10], 2)];
    const grads = copies(before);
    const r = clipByNorm(grads, 1);
    const norms = before.map((g) => hypotAll([g]));
    expect(norms[0]).toBeGreaterThan(1);
    expect(norms[1]).toBeLessThan(1);
    norms.forEach((n, t) => expect(r.norms[t]).toBeCloseTo(n, 12));
    expect(r).toMatchObject({ clippedCount: 2, clipped: true, nonFinite: null });
    expect(grads[1]).toEqual(before[1]);
    expect(hypotAll([grads[0]!])).toBeCloseTo(1, 6);
    expect(hypotAll([grads[2]!])).toBeCloseTo(1, 6);
    expect(r.scales[2]).toBeCloseTo(1 / norms[2]!, 12);
    expect(r.scales[1]).toBe(1);
  });

  it('differs from global-norm clipping: the direction of the whole gradient changes', () => {
    const before = [new Float32Array([3, 4]), new Float32Array([0.3, 0.4])];
    const perTensor = copies(before);
    const global = copies(before);
    clipByNorm(perTensor, 1);
    clipByGlobalNorm(global, 1);
    // Per tensor: the big tensor shrinks to norm 1 and the small one keeps norm 0.5.
    expect(hypotAll([perTensor[0]!])).toBeCloseTo(1, 6);
    expect(hypotAll([perTensor[1]!])).toBeCloseTo(0.5, 6);
    // Global: both shrink by the same factor, so their ratio (10:1) is kept.
    expect(hypotAll([global[0]!]) / hypotAll([global[1]!])).toBeCloseTo(10, 5);
  });

  it('zero tensors stay zero and non-finite tensors follow the policy', () => {
    const zero = [new Float32Array(3)];
    expect(clipByNorm(zero, 0.1)).toMatchObject({ clippedCount: 0 });
    expect(zero[0]!.every((v) => v === 0)).toBe(true);
    const bad = [new Float32Array([100, 100]), new Float32Array([NaN])];
    expect(() => clipByNorm(bad, 1)).toThrow(/clipByNorm: gradient tensor 1 holds NaN at index 0/);
    const r = clipByNorm(bad, 1, { nonFinite: 'skip' });
    expect(r.skipped).toBe(true);
    // Skipping means even the finite tensor before the bad one was not scaled.
    expect(bad[0]).toEqual(new Float32Array([100, 100]));
    expect(clipByNorm(bad, 1, { nonFinite: 'zero' }).zeroed).toBe(true);
    expect(bad[0]).toEqual(new Float32Array([0, 0]));
  });

  it('rejects a bad maxNorm', () => {
    expect(() => clipByNorm([], -2)).toThrow(/clipByNorm: maxNorm must be a finite number > 0, got -2/);
  });
});
