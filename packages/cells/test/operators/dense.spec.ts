import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { Dense } from '../../src/dense.js';
import { dense } from '../../src/operators/dense.js';
import { randomVectors } from '../support/test-inputs.js';

describe('dense()', () => {
  // A hand-made layer: y = W x + b with W [2×3]; the oracle is the same formula in float64.
  const W = Float32Array.of(0.5, -1, 2, 0.25, 0, -0.75);
  const bias = Float32Array.of(0.1, -0.2);
  const layer = {
    inSize: 3,
    outSize: 2,
    forward(out: Float32Array, x: Float32Array, B: number) {
      for (let b = 0; b < B; b++) {
        for (let r = 0; r < 2; r++) {
          let s = bias[r]!;
          for (let c = 0; c < 3; c++) s += W[r * 3 + c]! * x[b * 3 + c]!;
          out[b * 2 + r] = s;
        }
      }
    },
  };
  const oracle = (x: Float32Array): Float32Array =>
    Float32Array.from({ length: (x.length / 3) * 2 }, (_, i) => {
      const b = Math.floor(i / 2);
      const r = i % 2;
      return bias[r]! + W[r * 3]! * x[b * 3]! + W[r * 3 + 1]! * x[b * 3 + 1]! + W[r * 3 + 2]! * x[b * 3 + 2]!;
    });
  const close = (a: Float32Array, b: Float32Array): boolean =>
    a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= 1e-6);
  const xs = randomVectors(3, 3, 4);

  const checks = rxChecklist({
    make: () => dense(layer),
    inputs: xs,
    expected: xs.map(oracle),
    equal: close,
    bad: {
      input: Float32Array.of(1, 2, Infinity),
      message: /^dense: input\[2\] must be a finite number, got Infinity at step 1$/,
    },
  });
  for (const [name, check] of Object.entries(checks)) it(name, check);

  it('maps B rows at once', async () => {
    const batched = randomVectors(2, 2 * 3, 5);
    const checks2 = rxChecklist({
      make: () => dense(layer, { batch: 2 }),
      inputs: batched,
      expected: batched.map(oracle),
      equal: close,
      bad: { input: new Float32Array(3), message: /^dense: input length 3, expected 6 at step 1$/ },
    });
    for (const check of Object.values(checks2)) await check();
  });

  it('refuses a bad layer or batch', () => {
    expect(() => dense(null as unknown as typeof layer)).toThrow(/dense: layer must be a Dense layer, got null/);
    expect(() => dense(layer, { batch: -1 })).toThrow(/dense: batch must be a positive integer, got -1/);
  });

  it('drives the real Dense: logits are W x + b (float64 oracle)', async () => {
    const real = new Dense({ inSize: 5, outSize: 3, seed: 2 });
    const w = real.weight;
    const bb = real.bias;
    const xs2 = randomVectors(3, 5, 6);
    const checks2 = rxChecklist({
      make: () => dense(real),
      inputs: xs2,
      expected: xs2.map((x) =>
        Float32Array.from({ length: 3 }, (_, r) => x.reduce((s, v, c) => s + w[r * 5 + c]! * v, bb[r]!)),
      ),
      equal: (a, b) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= 1e-5),
      bad: { input: new Float32Array(4), message: /^dense: input length 4, expected 5 at step 1$/ },
    });
    for (const check of Object.values(checks2)) await check();
  });
});
