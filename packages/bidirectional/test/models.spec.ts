// SequenceTagger and SequenceClassifier: gradients of the mean loss against central finite
// differences of the model's own loss (float32 forward, so eps is large and the tolerance loose;
// the stack's exact gradients are checked in stack.spec.ts), for every head, pooling and input.

import { Rng } from '@rxrnn/kernels';
import { describe, expect, it } from 'vitest';
import { SequenceClassifier, SequenceTagger } from '../src/index.js';

const T = 5;
const B = 2;
const V = 6;
const C = 3;

type Model = SequenceTagger | SequenceClassifier;

function fdCheck(model: Model, loss: () => number, analytic: Float32Array, rng: Rng) {
  const eps = 5e-3;
  // Every parameter of small tensors is cheap enough; sample to keep the suite fast.
  const idx = Array.from({ length: 60 }, () => Math.floor(rng.uniform() * model.paramCount()));
  let worst = 0;
  for (const i of idx) {
    const keep = model.params[i]!;
    model.params[i] = keep + eps;
    const up = loss();
    model.params[i] = keep - eps;
    const down = loss();
    model.params[i] = keep;
    const fd = (up - down) / (2 * eps);
    worst = Math.max(worst, Math.abs(fd - analytic[i]!) / (2e-3 + Math.abs(fd)));
  }
  expect(worst).toBeLessThan(0.05);
}

describe('trainable models: gradients', () => {
  const rng = new Rng(8);
  const ids = Int32Array.from({ length: T * B }, () => Math.floor(rng.uniform() * V));
  const tags = Int32Array.from({ length: T * B }, () => Math.floor(rng.uniform() * C));
  const labels = Int32Array.from({ length: B }, () => Math.floor(rng.uniform() * C));

  for (const [cell, input, merge, gruVariant, directions] of [
    ['lstm', 'onehot', 'concat', undefined, 2],
    ['gru', 'embedding', 'sum', 'reset-before', 2],
    ['rnn', 'onehot', 'mul', undefined, 2],
    ['gru', 'onehot', 'ave', undefined, 2],
    ['lstm', 'embedding', 'concat', undefined, 1],
  ] as const) {
    it(`tagger: ${cell} ${gruVariant ?? ''} ${input} merge ${merge} D=${directions}`, () => {
      const m = new SequenceTagger({
        cell,
        gruVariant,
        vocabSize: V,
        input,
        embeddingDim: 4,
        hidden: 4,
        layers: 2,
        classes: C,
        merge,
        directions,
        seed: 2,
      });
      m.zeroGrads();
      const r = m.lossAndGrad(ids, tags, T, B);
      expect(r.count).toBe(T * B);
      const g = m.grads.slice();
      expect(g.some((v) => v !== 0)).toBe(true);
      fdCheck(
        m,
        () => {
          m.zeroGrads();
          const q = m.lossAndGrad(ids, tags, T, B);
          return q.lossSum / q.count;
        },
        g,
        rng,
      );
    });
  }

  for (const [pool, directions, cell] of [
    ['final', 2, 'lstm'],
    ['mean', 2, 'gru'],
    ['final', 1, 'rnn'],
    ['mean', 1, 'lstm'],
  ] as const) {
    it(`classifier: ${cell} pool ${pool} D=${directions}`, () => {
      const m = new SequenceClassifier({
        cell,
        vocabSize: V,
        input: 'embedding',
        embeddingDim: 4,
        hidden: 4,
        layers: 2,
        classes: C,
        pool,
        directions,
        seed: 3,
      });
      m.zeroGrads();
      const r = m.lossAndGrad(ids, labels, T, B);
      expect(r.count).toBe(B);
      const g = m.grads.slice();
      fdCheck(
        m,
        () => {
          m.zeroGrads();
          const q = m.lossAndGrad(ids, labels, T, B);
          return q.lossSum / q.count;
        },
        g,
        rng,
      );
      expect(m.predict(ids, T, B).every((v) => v >= 0 && v < C)).toBe(true);
    });
  }

  it('final pooling takes the reverse direction at step 0, where it has read the whole window', () => {
    const m = new SequenceClassifier({ cell: 'rnn', vocabSize: V, hidden: 4, classes: C, seed: 4 });
    // Silence the forward direction (h = tanh(0) = 0): only the reverse half can carry token 0.
    for (const v of m.views().filter((x) => /^rnn\..*_l0$/.test(x.name)))
      m.params.fill(0, v.offset, v.offset + v.shape.reduce((a, b) => a * b, 1));
    const loss = (x: Int32Array) => m.lossAndGrad(x, labels, T, B).lossSum;
    const changed = ids.slice();
    changed[0] = (changed[0]! + 1) % V;
    expect(loss(changed)).not.toBe(loss(ids));
  });
});
