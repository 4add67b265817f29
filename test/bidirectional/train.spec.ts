// Training bidirectional models with the trainer's Adam on their flat params/grads, for the course
// notes' RNN types (tanh RNN, reset-before GRU, LSTM): a many-to-many tagger whose labels lie in the
// future (a unidirectional twin cannot learn them) and a many-to-one classifier, both poolings.

import { SequenceClassifier, SequenceTagger } from '@rxrnn/bidirectional';
import { Rng } from '@rxrnn/kernels';
import { Adam } from '@rxrnn/trainer';
import { describe, expect, it } from 'vitest';

const V = 4;
const T = 10;
const B = 16;
type Trainable = { paramCount(): number; params: Float32Array; grads: Float32Array; zeroGrads(): void };

/** Fresh random windows of ids [T·B] from `rng`. */
const windowIds = (rng: Rng) => Int32Array.from({ length: T * B }, () => Math.floor(rng.uniform() * V));
/** Tag of (t, b): the token two steps later (clamped to the window's last). */
const futureTags = (ids: Int32Array) => ids.map((_, r) => ids[Math.min(Math.floor(r / B) + 2, T - 1) * B + (r % B)]!);
/** Label of window b: its first token. */
const firstTokens = (ids: Int32Array) => ids.slice(0, B);

function trainFor(model: Trainable, steps: number, lossAndGrad: (ids: Int32Array) => void, seed: number) {
  const rng = new Rng(seed);
  const adam = new Adam(model.paramCount());
  for (let s = 0; s < steps; s++) {
    model.zeroGrads();
    lossAndGrad(windowIds(rng));
    adam.step(model.params, model.grads, 1e-2);
  }
}

function accuracy(pred: Int32Array, want: Int32Array): number {
  return pred.reduce((n, p, i) => n + (p === want[i] ? 1 : 0), 0) / want.length;
}

const kinds = [
  ['rnn', undefined],
  ['gru', 'reset-before'],
  ['lstm', undefined],
] as const;

describe("bidirectional models learn with the trainer's Adam", () => {
  for (const [cell, gruVariant] of kinds) {
    it(`many-to-many tagger (${cell}${gruVariant ? ` ${gruVariant}` : ''}): labels two steps in the future`, () => {
      const make = (directions: 1 | 2) =>
        new SequenceTagger({ cell, gruVariant, vocabSize: V, hidden: 12, classes: V, directions, seed: 1 });
      const bi = make(2);
      const uni = make(1);
      for (const m of [bi, uni]) trainFor(m, 250, (ids) => m.lossAndGrad(ids, futureTags(ids), T, B), 2);
      const test = windowIds(new Rng(99));
      const biAcc = accuracy(bi.predict(test, T, B), futureTags(test));
      const uniAcc = accuracy(uni.predict(test, T, B), futureTags(test));
      // Chance is 1/V = 0.25; a causal model only knows the labels of the last two steps (= the last token).
      expect(biAcc).toBeGreaterThan(0.9);
      expect(uniAcc).toBeLessThan(0.6);
    });

    for (const pool of ['final', 'mean'] as const) {
      it(`many-to-one classifier (${cell}${gruVariant ? ` ${gruVariant}` : ''}, ${pool} pooling): the window's first token`, () => {
        const m = new SequenceClassifier({
          cell,
          gruVariant,
          vocabSize: V,
          input: 'embedding',
          embeddingDim: 8,
          hidden: 12,
          classes: V,
          pool,
          seed: 1,
        });
        const test = windowIds(new Rng(98));
        const before = accuracy(m.predict(test, T, B), firstTokens(test));
        trainFor(m, 200, (ids) => m.lossAndGrad(ids, firstTokens(ids), T, B), 3);
        const after = accuracy(m.predict(test, T, B), firstTokens(test));
        expect(after).toBeGreaterThan(0.9);
        expect(after).toBeGreaterThan(before);
      });
    }
  }
});
