// SequenceClassifier: many-to-one, a label per window. ids [T·B] → (bi)directional stack → pooled
// features [B × D·H] (final states of both directions, or the mean over steps) → Dense → softmax
// cross-entropy. Flat params/grads; lossAndGrad accumulates grads of the mean loss over B windows.

import { softmaxCrossEntropy } from '@rxrnn/kernels';
import { describe } from '@rxrnn/kernels/internal';
import { argmax, SequenceModel, type SequenceModelConfig } from './internal/sequence-model.js';

/** A {@link SequenceClassifier}'s config: the shared one plus how the window is pooled. */
export interface SequenceClassifierConfig extends SequenceModelConfig {
  /**
   * 'final' (default): [forward h after the last step | reverse h after the first step] (each
   * direction's final state, having read the whole window); 'mean': the outputs averaged over T.
   */
  pool?: 'final' | 'mean';
}

const WHERE = 'SequenceClassifier';

/**
 * Many-to-one: one label per window of token ids, from a bidirectional RNN's pooled features
 * (the final state of each direction, or the mean output) through a dense layer and softmax.
 *
 * @example
 * ```ts
 * import { SequenceClassifier } from '@rxrnn/bidirectional';
 * const clf = new SequenceClassifier({ cell: 'gru', vocabSize: 5, hidden: 8, classes: 2, seed: 1 });
 * const T = 4, B = 2;
 * const ids = Int32Array.of(0, 1, 2, 3, 4, 0, 1, 2); // [T·B], time-major
 * clf.zeroGrads();
 * const { lossSum, count } = clf.lossAndGrad(ids, Int32Array.of(0, 1), T, B);
 * console.log(lossSum / count, clf.predict(ids, T, B)); // mean nats, a label per window
 * ```
 */
export class SequenceClassifier extends SequenceModel {
  /** How the window's features are pooled: 'final' states or the 'mean' output. */
  readonly pool: 'final' | 'mean';
  private feat = new Float32Array(0);
  private dFeat = new Float32Array(0);
  private logitsBuf = new Float32Array(0);
  private dLogits = new Float32Array(0);
  private lossRows = new Float32Array(0);
  private dOut = new Float32Array(0);

  /**
   * @param config - the shared config plus `pool` (default 'final').
   * @throws RangeError/TypeError for a bad config.
   */
  constructor(config: SequenceClassifierConfig) {
    // Always concat: 'final' needs each direction's own half.
    super(WHERE, config, 'concat', (w) => w);
    const pool = config.pool ?? 'final';
    if (pool !== 'final' && pool !== 'mean')
      throw new RangeError(`${WHERE}: pool must be 'final' or 'mean', got ${describe(pool)}`);
    this.pool = pool;
  }

  private features(where: string, inputs: Int32Array, T: number, B: number): Float32Array {
    const h = this.encode(where, inputs, T, B);
    const W = this.rnnOutSize;
    const H = W / this.directions;
    if (this.feat.length !== B * W) {
      this.feat = new Float32Array(B * W);
      this.dFeat = new Float32Array(B * W);
      this.logitsBuf = new Float32Array(B * this.dense.outSize);
      this.dLogits = new Float32Array(B * this.dense.outSize);
      this.lossRows = new Float32Array(B);
    }
    const f = this.feat;
    for (let b = 0; b < B; b++) {
      if (this.pool === 'mean') {
        f.fill(0, b * W, (b + 1) * W);
        for (let t = 0; t < T; t++)
          for (let j = 0; j < W; j++) f[b * W + j] = f[b * W + j]! + h[(t * B + b) * W + j]! / T;
      } else {
        // Forward half from the last step; the reverse half (if any) from the first.
        f.set(h.subarray(((T - 1) * B + b) * W, ((T - 1) * B + b) * W + H), b * W);
        if (this.directions === 2) f.set(h.subarray(b * W + H, (b + 1) * W), b * W + H);
      }
    }
    return f;
  }

  /** The most probable label per window, [B]. */
  predict(inputs: Int32Array, T: number, B: number): Int32Array {
    const f = this.features(`${WHERE}.predict`, inputs, T, B);
    const C = this.dense.outSize;
    this.dense.forward(this.logitsBuf, f, B);
    const out = new Int32Array(B);
    for (let b = 0; b < B; b++) out[b] = argmax(this.logitsBuf, b * C, C);
    return out;
  }

  /** Softmax cross-entropy of each window's label (labels [B]); grads of the MEAN loss accumulate. */
  lossAndGrad(
    inputs: Int32Array,
    labels: Int32Array,
    T: number,
    B: number,
  ): {
    /** Sum of the cross-entropies, nats. */
    lossSum: number;
    /** How many predictions the sum covers. */
    count: number;
  } {
    const f = this.features(`${WHERE}.lossAndGrad`, inputs, T, B);
    const C = this.dense.outSize;
    const W = this.rnnOutSize;
    const H = W / this.directions;
    this.dense.forward(this.logitsBuf, f, B);
    const lossSum = softmaxCrossEntropy(this.dLogits, this.lossRows, this.logitsBuf, labels, B, C);
    for (let i = 0; i < this.dLogits.length; i++) this.dLogits[i] = this.dLogits[i]! / B;
    this.dense.backward(this.dLogits, f, B, this.dFeat);
    if (this.dOut.length !== T * B * W) this.dOut = new Float32Array(T * B * W);
    const d = this.dOut;
    d.fill(0);
    for (let b = 0; b < B; b++) {
      if (this.pool === 'mean') {
        for (let t = 0; t < T; t++) for (let j = 0; j < W; j++) d[(t * B + b) * W + j] = this.dFeat[b * W + j]! / T;
      } else {
        d.set(this.dFeat.subarray(b * W, b * W + H), ((T - 1) * B + b) * W);
        if (this.directions === 2) d.set(this.dFeat.subarray(b * W + H, (b + 1) * W), b * W + H);
      }
    }
    this.encodeBackward(d);
    return { lossSum, count: B };
  }
}
