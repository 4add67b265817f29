// Dropout regularizes: an LSTM far larger than its 5,000-character corpus (a seeded Markov chain
// with a known entropy rate) memorizes it without dropout, and generalizes better with either
// kind of dropout, for every seed tried. The margins are several times the spread between seeds
// (2 seeds here; 4 measured when the thresholds were set, see the comment on THRESHOLDS).
import { CharModel, type CharModelConfig, Vocabulary } from '@rxrnn/cells';
import { OfflineTrainer } from '@rxrnn/trainer';
import { describe, expect, it } from 'vitest';
import { markovChain } from './markov.js';

const chain = markovChain({ alphabet: 'abcdefgh', order: 2, seed: 3, sharpness: 3 });
const text = chain.sample(5000, 4);
const vocab = Vocabulary.fromText(text).chars;
/** The best any model can do on held-out text of this chain, nats/char. */
const entropyRate = chain.entropyRate * Math.LN2;
const STEPS = 300;

interface Outcome {
  /** Best held-out loss of evaluations every 25 updates. */
  bestVal: number;
  /** Held-out and training-split losses after the last update, both without dropout. */
  val: number;
  train: number;
}

/** Mean loss (nats/char) of `ids` cut into parallel streams of windows, from zero states, no dropout. */
function meanLoss(model: CharModel, ids: Int32Array, T = 32): number {
  const B = Math.floor((ids.length - 1) / (4 * T));
  const len = Math.floor((ids.length - 1) / B);
  const state = model.createState(B);
  const inputs = new Int32Array(T * B);
  const targets = new Int32Array(T * B);
  let sum = 0;
  let count = 0;
  for (let pos = 0; pos + T <= len; pos += T) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < T; k++) {
        inputs[k * B + b] = ids[b * len + pos + k]!;
        targets[k * B + b] = ids[b * len + pos + k + 1]!;
      }
    }
    const r = model.evaluate(inputs, targets, T, B, state);
    sum += r.lossSum;
    count += r.count;
  }
  return sum / count;
}

function train(seed: number, dropout: Partial<CharModelConfig>): Outcome {
  const model = new CharModel({ cell: 'lstm', vocab, hidden: 96, embeddingDim: 16, seed, ...dropout });
  const tr = new OfflineTrainer(model, text, {
    batchSize: 16,
    bptt: 32,
    lr: 5e-3,
    valFraction: 0.2,
    evalEvery: 0,
    seed,
  });
  let bestVal = Infinity;
  for (let s = 1; s <= STEPS; s++) {
    tr.trainStep();
    if (s % 25 === 0) bestVal = Math.min(bestVal, tr.evaluate().nats);
  }
  return { bestVal, val: tr.evaluate().nats, train: meanLoss(model, tr.train) };
}

// Measured for seeds 1-4 (nats/char; entropy rate 1.496):
//   no dropout            best val 1.772-1.797, final val 3.05-3.12, train 0.47-0.50
//   --dropout 0.5          best val 1.658-1.687, final val 1.67-1.69, train 1.46-1.47
//   variational 0.3        best val 1.646-1.680, final val 1.72-1.74, train 1.20-1.22
const KINDS: [string, Partial<CharModelConfig>][] = [
  [
    '--dropout 0.5: the embedding output and before the head',
    { dropout: 0.5, embeddingDropout: 0.5, outputDropout: 0.5 },
  ],
  ['variational input and recurrent dropout 0.3', { inputDropout: 0.3, recurrentDropout: 0.3 }],
];

describe('dropout regularizes a model that overfits without it', () => {
  for (const seed of [1, 2]) {
    // The run without dropout, shared by both kinds of this seed.
    let cached: Outcome | undefined;
    const baseline = () => (cached ??= train(seed, {}));
    it.each(KINDS)(`seed ${seed}: %s`, (_name, dropout) => {
      const none = baseline();
      const drop = train(seed, dropout);
      // Without dropout the model memorizes: far below the entropy rate on its training text,
      // far above it on held-out text.
      expect(none.train).toBeLessThan(entropyRate - 0.5);
      expect(none.val).toBeGreaterThan(entropyRate + 1);
      // With dropout: a higher training loss, a lower best validation loss, a far smaller gap.
      expect(drop.train).toBeGreaterThan(none.train + 0.5);
      expect(drop.bestVal).toBeLessThan(none.bestVal - 0.05);
      expect(drop.val - drop.train).toBeLessThan((none.val - none.train) / 3);
      // No model beats the chain's entropy rate on held-out text (the evaluation is honest).
      for (const o of [none, drop]) expect(o.bestVal).toBeGreaterThan(entropyRate);
    });
  }
});
