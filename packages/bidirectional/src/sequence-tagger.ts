// SequenceTagger: many-to-many, a label per token. ids [T·B] → (bi)directional stack → Dense per
// step → softmax cross-entropy. Flat params/grads; lossAndGrad accumulates grads of the mean loss.
import { softmaxCrossEntropy } from '@rxrnn/kernels';
import { argmax, SequenceModel, type SequenceModelConfig } from './internal/sequence-model.js';
import { checkMerge, type MergeMode } from './merge.js';

/** A {@link SequenceTagger}'s config: the shared one plus how the two directions merge. */
export interface SequenceTaggerConfig extends SequenceModelConfig {
  /** How the two directions combine per step before the dense layer; default 'concat'. */
  merge?: MergeMode;
}

const WHERE = 'SequenceTagger';

/**
 * Many-to-many: a label for every token, from a bidirectional RNN (each step sees the whole window,
 * left and right) through a dense layer and softmax at every step.
 *
 * @example
 * ```ts
 * import { SequenceTagger } from '@rxrnn/bidirectional';
 * const tagger = new SequenceTagger({ cell: 'lstm', vocabSize: 5, hidden: 8, classes: 3, seed: 1 });
 * const T = 4, B = 1;
 * const ids = Int32Array.of(0, 1, 2, 3);
 * tagger.zeroGrads();
 * tagger.lossAndGrad(ids, Int32Array.of(0, 1, 2, 0), T, B);
 * console.log(tagger.predict(ids, T, B)); // a label per token
 * ```
 */
export class SequenceTagger extends SequenceModel {
  private logitsBuf = new Float32Array(0);
  private dLogits = new Float32Array(0);
  private lossRows = new Float32Array(0);
  private dOut = new Float32Array(0);

  /**
   * @param config - the shared config plus `merge` (default 'concat').
   * @throws RangeError/TypeError for a bad config.
   */
  constructor(config: SequenceTaggerConfig) {
    super(WHERE, config, checkMerge(WHERE, config?.merge ?? 'concat'), (w) => w);
  }

  /** Logits [T·B × classes] of a window of ids [T·B] (a view, valid until the next call). */
  logits(inputs: Int32Array, T: number, B: number): Float32Array {
    const h = this.encode(`${WHERE}.logits`, inputs, T, B);
    const n = T * B * this.dense.outSize;
    if (this.logitsBuf.length !== n) this.logitsBuf = new Float32Array(n);
    this.dense.forward(this.logitsBuf, h, T * B);
    return this.logitsBuf;
  }

  /** The most probable label per token, [T·B]. */
  predict(inputs: Int32Array, T: number, B: number): Int32Array {
    const z = this.logits(inputs, T, B);
    const C = this.dense.outSize;
    const out = new Int32Array(T * B);
    for (let r = 0; r < T * B; r++) out[r] = argmax(z, r * C, C);
    return out;
  }

  /**
   * Softmax cross-entropy of every token's label (targets [T·B], ids in [0, classes)); gradients of
   * the MEAN loss accumulate into `grads`. Returns {lossSum, count} in nats.
   */
  lossAndGrad(
    inputs: Int32Array,
    targets: Int32Array,
    T: number,
    B: number,
  ): {
    /** Sum of the cross-entropies, nats. */
    lossSum: number;
    /** How many predictions the sum covers. */
    count: number;
  } {
    const h = this.encode(`${WHERE}.lossAndGrad`, inputs, T, B);
    const rows = T * B;
    const C = this.dense.outSize;
    if (this.dLogits.length !== rows * C) {
      this.logitsBuf = new Float32Array(rows * C);
      this.dLogits = new Float32Array(rows * C);
      this.lossRows = new Float32Array(rows);
      this.dOut = new Float32Array(rows * this.rnnOutSize);
    }
    this.dense.forward(this.logitsBuf, h, rows);
    const lossSum = softmaxCrossEntropy(this.dLogits, this.lossRows, this.logitsBuf, targets, rows, C);
    // The kernel's dLogits is per row (softmax − onehot); the mean divides by the count.
    for (let i = 0; i < this.dLogits.length; i++) this.dLogits[i] = this.dLogits[i]! / rows;
    this.dense.backward(this.dLogits, h, rows, this.dOut);
    this.encodeBackward(this.dOut);
    return { lossSum, count: rows };
  }
}
