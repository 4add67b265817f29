// The course note's lesson as a property, measured with gradientFlow() on the same text and size:
// at initialization a tanh RNN's gradient 50 steps back (relative to the last step's) is at least
// 100× smaller than an LSTM's with forget bias 1, for every seed and window; with its recurrent
// weights scaled up the RNN's gradient grows with k instead; and global-norm clipping in training
// (trainOnline, SGD) caps every update's gradient norm at θ while the pre-clip norm explodes.
// Numbers measured by this spec's models are documented in docs/gradients.md.
import { CharModel, gradientFlow, Vocabulary } from '@rxrnn/cells';
import { createOptimizer, trainOnline } from '@rxrnn/trainer';
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

/** Deterministic word text (an LCG over a small lexicon): the same data for every model. */
function wordText(n: number, seed: number): string {
  const words = ['the', 'stream', 'carries', 'a', 'gate', 'forgets', 'what', 'came', 'before', 'and', 'learns'];
  let s = seed >>> 0;
  let out = '';
  while (out.length < n) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out += words[s % words.length]!;
    out += (s >>> 8) % 9 === 0 ? '.\n' : ' ';
  }
  return out.slice(0, n);
}

const TEXT = wordText(20_000, 7);
const VOCAB = Vocabulary.fromText(TEXT).chars;
const H = 128;
const T = 100;
const K = 50;
const WINDOWS = [0, 3_001, 7_919, 12_345];
const ratioAt = (model: CharModel, at: number, k = K) => {
  const h = gradientFlow(model, TEXT.slice(at, at + T + 1)).layers[0]!.h;
  return h[k]! / h[0]!;
};
/** Multiplies every recurrent weight matrix W_hh of the model by `factor`. */
function scaleRecurrent(model: CharModel, factor: number): void {
  for (const v of model.views().filter((x) => x.name.includes('weight_hh'))) {
    const n = v.shape[0]! * v.shape[1]!;
    for (let i = v.offset; i < v.offset + n; i++) model.params[i] = model.params[i]! * factor;
  }
}

describe('vanishing and exploding gradients through time (same text, H = 128, T = 100)', () => {
  it('at initialization: the tanh RNN keeps ≥ 100× less of its gradient 50 steps back than the LSTM', () => {
    for (const seed of [1, 2, 3]) {
      const rnn = new CharModel({ cell: 'rnn', vocab: VOCAB, hidden: H, seed });
      const lstm = new CharModel({ cell: 'lstm', vocab: VOCAB, hidden: H, seed });
      // rxrnn's LSTM starts with forget-gate bias 1 (σ(1) ≈ 0.73 of the cell state kept per step).
      const f = lstm.views().find((v) => v.name === 'rnn.bias_l0')!;
      expect(Array.from(lstm.params.subarray(f.offset + H, f.offset + 2 * H))).toEqual(new Array(H).fill(1));
      for (const at of WINDOWS) {
        const r = ratioAt(rnn, at);
        const l = ratioAt(lstm, at);
        expect(
          r,
          `seed ${seed}, window at ${at}: rnn ${r.toExponential(2)} vs lstm ${l.toExponential(2)}`,
        ).toBeLessThan(l / 100);
        // Both decay: the property is about how fast, not whether.
        expect(l).toBeLessThan(0.1);
        expect(r).toBeGreaterThan(0);
      }
    }
  });

  it('recurrent weights scaled ×3: the RNN gradient grows with k instead of vanishing', () => {
    const rnn = new CharModel({ cell: 'rnn', vocab: VOCAB, hidden: H, seed: 1 });
    const small = WINDOWS.map((at) => ratioAt(rnn, at));
    scaleRecurrent(rnn, 3);
    for (const [i, at] of WINDOWS.entries()) {
      const grown = ratioAt(rnn, at);
      expect(grown, `window at ${at}`).toBeGreaterThan(100);
      expect(ratioAt(rnn, at, 10)).toBeGreaterThan(1);
      expect(grown).toBeGreaterThan(1e6 * small[i]!);
    }
  });

  it('clipping caps the update: the pre-clip norm explodes, the applied gradient norm is θ', async () => {
    const theta = 1;
    const lr = 0.05;
    const model = new CharModel({ cell: 'rnn', vocab: VOCAB, hidden: H, seed: 1 });
    scaleRecurrent(model, 3);
    const before = model.params.slice();
    let previous = model.params.slice();
    const applied: number[] = [];
    const moved: number[] = [];
    const events = await lastValueFrom(
      from([TEXT.slice(0, 30 * T + 1)]).pipe(
        trainOnline(model, {
          bptt: T,
          lr,
          maxGradNorm: theta,
          optimizer: createOptimizer({ kind: 'sgd' }, model.params.length),
          overflow: 'block',
        }),
        tap(() => {
          // After an update model.grads holds the gradient the optimizer applied (clipped).
          let g = 0;
          let d = 0;
          for (let i = 0; i < model.grads.length; i++) {
            g += model.grads[i]! ** 2;
            d += (model.params[i]! - previous[i]!) ** 2;
          }
          applied.push(Math.sqrt(g));
          moved.push(Math.sqrt(d));
          previous = model.params.slice();
        }),
        toArray(),
      ),
    );
    expect(events).toHaveLength(30);
    let maxDev = 0;
    let minPre = Infinity;
    expect(model.params).not.toEqual(before);
    for (const [i, e] of events.entries()) {
      expect(e.gradNorm, `update ${i}: pre-clip norm`).toBeGreaterThan(10 * theta);
      expect(e.clipped).toBe(true);
      // θ · ‖g‖ / (‖g‖ + 1e-6) in float32: θ to within float32 rounding, never above it by more.
      expect(applied[i]!, `update ${i}: applied norm`).toBeLessThanOrEqual(theta + 1e-7);
      expect(applied[i]!, `update ${i}: applied norm`).toBeGreaterThan(theta - 1e-6);
      // Plain SGD moves the parameters by exactly lr × the applied gradient (float32 rounding aside).
      expect(Math.abs(moved[i]! - lr * applied[i]!) / (lr * theta)).toBeLessThan(1e-3);
      maxDev = Math.max(maxDev, Math.abs(applied[i]! - theta));
      minPre = Math.min(minPre, e.gradNorm);
    }
    // The same run by hand: npm run --silent charstream -- gradients --explode (docs/gradients.md).
    expect(minPre).toBeGreaterThan(1e6 * theta);
    expect(maxDev).toBeLessThan(1e-7);
  });
});
