// Learning tests: the trainer + cells actually learn. Oracles: ln(V) for an untrained model, a
// perplexity bound for memorisation, and the exact entropy rate of a seeded Markov chain.
// All fast (≈ 30 s); the 10-minute tinyshakespeare quality run is in train-cli.spec.ts (RXRNN_LONG=1).
import { CharModel, type CharModelConfig, Vocabulary } from '@rxrnn/cells';
import { createOfflineTrainer, OfflineTrainer, trainOfflineToFile } from '@rxrnn/trainer/node';
import { describe, expect, it } from 'vitest';
import { markovChain } from './markov.js';

// Deterministic pseudo-text: words drawn by an LCG, so there is something to memorise.
function pseudoText(n: number, seed: number): string {
  const words = [
    'the',
    'cat',
    'sat',
    'on',
    'a',
    'mat',
    'and',
    'dog',
    'ran',
    'far',
    'away',
    'from',
    'home',
    'while',
    'it',
    'rained',
  ];
  let s = seed >>> 0;
  let out = '';
  while (out.length < n) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out += words[s >>> 28] + ((s >>> 8) % 7 === 0 ? '. ' : ' ');
  }
  return out.slice(0, n);
}

describe('initial loss', () => {
  const text = pseudoText(5000, 1);
  const vocab = Vocabulary.fromText(text).chars;
  it.each(['gru', 'lstm'] as const)('%s: first-window loss is ln(V) ± 0.1', (cell) => {
    const model = new CharModel({ cell, vocab, hidden: 64, layers: 2, embeddingDim: 16, seed: 7 });
    const tr = new OfflineTrainer(model, text, { batchSize: 8, bptt: 32, valFraction: 0 });
    const first = tr.trainStep();
    expect(Math.abs(first.loss.nats - Math.log(vocab.length))).toBeLessThan(0.1);
  });

  it('tanh RNN: first-window loss is ln(V) + less than 0.25', () => {
    // PyTorch's default init draws the output layer from U(±1/√H); with saturated tanh units the
    // logits have variance ≈ E[h²]/3 ≈ 1/3, which costs up to ≈ 0.17 nats above ln(V) (measured
    // 0.18 for one layer, 0.12 for two). LSTM's h = o·tanh(c) is smaller, hence the tighter bound.
    const model = new CharModel({ cell: 'rnn', vocab, hidden: 64, layers: 1, embeddingDim: 16, seed: 7 });
    const tr = new OfflineTrainer(model, text, { batchSize: 8, bptt: 32, valFraction: 0 });
    const excess = tr.trainStep().loss.nats - Math.log(vocab.length);
    expect(excess).toBeGreaterThan(-0.1);
    expect(excess).toBeLessThan(0.25);
  });
});

describe('memorisation', () => {
  it('a 10k-character corpus reaches training perplexity ≤ 1.1', async () => {
    const text = pseudoText(10_000, 42);
    const vocab = Vocabulary.fromText(text).chars;
    const model = new CharModel({ cell: 'lstm', vocab, hidden: 128, embeddingDim: 32, seed: 1 });
    const tr = await createOfflineTrainer(model, text, {
      batchSize: 16,
      bptt: 64,
      lr: 5e-3,
      valFraction: 0,
      evalEvery: 0,
    });
    // Training perplexity over the most recent epoch's windows (their summed losses / predictions).
    const perEpoch = Math.floor(tr.train.length / (16 * 64));
    const recent: { sum: number; n: number }[] = [];
    let ppl = Infinity;
    // About 650 updates on this machine; the cap only bounds a failing run.
    for (let step = 0; step < 2000 && ppl > 1.1; step++) {
      const r = tr.trainStep();
      recent.push({ sum: r.loss.nats * r.loss.count, n: r.loss.count });
      if (recent.length > perEpoch) recent.shift();
      if (recent.length >= perEpoch)
        ppl = Math.exp(recent.reduce((a, x) => a + x.sum, 0) / recent.reduce((a, x) => a + x.n, 0));
    }
    expect(ppl).toBeLessThanOrEqual(1.1);
  });
});

describe('a source of known entropy', () => {
  it('validation bits/char come within 0.05 of the exact entropy rate of a 2nd-order Markov chain', async () => {
    const chain = markovChain({ alphabet: 'abcd', order: 2, seed: 5, sharpness: 3 });
    const text = chain.sample(120_000, 9);
    const model = new CharModel({
      cell: 'gru',
      vocab: [...'abcd'],
      hidden: 48,
      embeddingDim: 8,
      seed: 2,
    } as CharModelConfig);
    const summary = await trainOfflineToFile({
      model,
      text,
      batchSize: 32,
      bptt: 32,
      lr: 1e-2,
      schedule: { kind: 'cosine', totalSteps: 350, minLr: 5e-4 },
      valFraction: 0.1,
      evalEvery: 50,
      maxSteps: 350,
    });
    const bpc = summary.bestVal!.bpc;
    console.log(
      `markov: entropy rate ${chain.entropyRate.toFixed(4)} bits/char, validation ${bpc.toFixed(4)} bits/char`,
    );
    // The model cannot beat the source (beyond sampling noise of the 12k held-out chars).
    expect(chain.entropyRate).toBeGreaterThan(0.8);
    expect(bpc).toBeGreaterThan(chain.entropyRate - 0.05);
    expect(bpc).toBeLessThan(chain.entropyRate + 0.05);
  });
});
