// Why clipping exists: the same tanh RNN, seed and learning rate, trained with plain SGD on long
// windows (T = 60) with an expansive recurrent matrix, diverges without clipping and converges with
// global-norm clipping. The model is a test helper built from @rxrnn/kernels only.
import { describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from '../src/index.js';
import { TanhRnn } from './helpers/tanh-rnn.js';

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
const chars = [...new Set(text)].sort();
const ids = Int32Array.from(text, (c) => chars.indexOf(c));

const T = 60;
const config = { V: chars.length, H: 32, T, recurrentScale: 1.5, seed: 2 };
const lr = 0.1;
const iterations = 300;

/** Trains from scratch; returns per-character losses and pre-clip gradient norms per iteration. */
function train(maxNorm: number | null): { losses: number[]; norms: number[]; clippedSteps: number } {
  const model = new TanhRnn(config);
  const losses: number[] = [];
  const norms: number[] = [];
  let clippedSteps = 0;
  let pos = 0;
  for (let it = 0; it < iterations; it++) {
    if (pos + T + 1 > ids.length) pos = 0;
    const loss = model.lossAndGrad(ids.subarray(pos, pos + T), ids.subarray(pos + 1, pos + T + 1));
    pos += T;
    losses.push(loss / T);
    if (!Number.isFinite(loss)) break;
    if (maxNorm === null) {
      norms.push(Math.hypot(...model.grads));
    } else {
      const r = clipByGlobalNorm(model.gradViews(), maxNorm);
      norms.push(r.totalNorm);
      if (r.clipped) clippedSteps++;
    }
    model.sgdStep(lr);
  }
  return { losses, norms, clippedSteps };
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

describe('exploding gradients in a tanh RNN (T = 60, W_hh std 1.5/sqrt(H), SGD lr 0.1)', () => {
  it('the helper model computes true gradients (central finite differences)', () => {
    const small = new TanhRnn({ V: 3, H: 4, T: 5, recurrentScale: 1.5, seed: 9 });
    const inputs = Int32Array.of(0, 2, 1, 1, 0);
    const targets = Int32Array.of(2, 1, 1, 0, 2);
    small.lossAndGrad(inputs, targets);
    const analytic = small.grads.slice();
    const eps = 1e-2;
    for (let i = 0; i < small.params.length; i++) {
      const keep = small.params[i]!;
      small.params[i] = keep + eps;
      const up = small.lossAndGrad(inputs, targets);
      small.params[i] = keep - eps;
      const down = small.lossAndGrad(inputs, targets);
      small.params[i] = keep;
      const numeric = (up - down) / (Math.fround(keep + eps) - Math.fround(keep - eps));
      expect(Math.abs(numeric - analytic[i]!), `param ${i}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
    }
  });

  it('diverges without clipping and converges with clipByGlobalNorm(maxNorm 1) on the same seed', () => {
    const start = Math.log(chars.length); // an untrained model predicts about uniformly
    const plain = train(null);
    const clipped = train(1);

    // Both runs start from the same weights and see the same first window.
    expect(plain.losses[0]).toBe(clipped.losses[0]);
    expect(Math.abs(plain.losses[0]! - start)).toBeLessThan(0.2);
    // The first gradient is already hundreds of times the threshold: the expansive recurrence
    // amplifies it over 60 steps, and a step of lr times that throws the weights far away.
    expect(plain.norms[0]).toBeGreaterThan(100);

    // Without clipping: the loss leaves the uniform baseline far behind (or stops being finite).
    const plainEnd = plain.losses.some((l) => !Number.isFinite(l)) ? Infinity : mean(plain.losses.slice(-20));
    expect(plainEnd).toBeGreaterThan(3 * start);

    // With clipping: it learns the sentence.
    expect(mean(clipped.losses.slice(-20))).toBeLessThan(0.25 * start);
    expect(clipped.clippedSteps).toBeGreaterThan(iterations / 2);
  });
});
