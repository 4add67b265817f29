import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { softmax } from '../../src/operators/softmax.js';
import { randomVectors } from '../support/test-inputs.js';

/** float64 softmax(x / T) per row of width V: the oracle. */
function softmax64(x: Float32Array, V: number, T = 1): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / V; r++) {
    const row = Array.from(x.subarray(r * V, r * V + V), (v) => v / T);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, i) => (out[r * V + i] = v / s));
  }
  return out;
}
const close = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= 1e-6 + 1e-5 * b[i]!);

describe('softmax()', () => {
  const xs = randomVectors(3, 7, 6).map((x) => x.map((v) => 4 * v));
  const checks = rxChecklist({
    make: () => softmax(),
    inputs: xs,
    expected: xs.map((x) => softmax64(x, 7)),
    equal: close,
    bad: {
      input: Float32Array.of(1, NaN),
      message: /^softmax: input\[1\] must be a finite number, got NaN at step 1$/,
    },
  });
  for (const [name, check] of Object.entries(checks)) it(name, check);

  it('applies the temperature and normalizes each of B rows on its own', async () => {
    const batched = randomVectors(2, 3 * 5, 8).map((x) => x.map((v) => 10 * v));
    const checks2 = rxChecklist({
      make: () => softmax({ temperature: 0.7, batch: 3 }),
      inputs: batched,
      expected: batched.map((x) => softmax64(x, 5, 0.7)),
      equal: close,
      bad: {
        input: new Float32Array(4),
        message: /^softmax: input must be a Float32Array of 3 non-empty rows, got length 4 at step 1$/,
      },
    });
    for (const check of Object.values(checks2)) await check();
  });

  it('stays finite for huge logits', async () => {
    const checks3 = rxChecklist({
      make: () => softmax(),
      inputs: [Float32Array.of(1e30, 0, -1e30), Float32Array.of(-3e38, -3e38)],
      expected: [Float32Array.of(1, 0, 0), Float32Array.of(0.5, 0.5)],
      equal: close,
      bad: {
        input: new Float32Array(0),
        message: /softmax: input must be a Float32Array of 1 non-empty rows, got length 0/,
      },
    });
    for (const check of Object.values(checks3)) await check();
  });

  it.each([0, -1, NaN, Infinity])('refuses temperature %s', (t) => {
    expect(() => softmax({ temperature: t })).toThrow(
      new RangeError(`softmax: temperature must be a finite number > 0, got ${t}`),
    );
  });
});
