// RnnCell: the tanh RNN, h' = tanh(W_ih x + W_hh h + b); one gate block (G = 1).
// Shapes: x [B × n_x], h [B × H]; the per-step buffers live in the CellTape.
import { gemmAB, gemmAtB, rnnBackward, rnnForward, rnnStep } from '@rxrnn/kernels';
import { type CellStorage, RecurrentCell, type StepOneBuffers } from './cell.js';
import type { CellTape } from './cell-tape.js';
import { maskInPlace } from './internal/dropout.js';
import type { CellConfig } from './types.js';

/**
 * The tanh RNN cell (nn.RNNCell), one gate block (G = 1):
 *
 *     a⟨t⟩ = tanh(W_aa a⟨t−1⟩ + W_ax x⟨t⟩ + b_a)
 *
 * with W_ax = weight_ih [H, n_x], W_aa = weight_hh [H, H], b_a = bias [H]: (n_a + n_x)·n_a + n_a
 * parameters (n_a = H). The state is h [B × H]; step() and forwardSequence() take x [B × n_x]
 * rows or one-hot ids.
 *
 * @example
 * ```ts
 * import { RnnCell } from '@rxrnn/cells';
 * const cell = new RnnCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
 * console.log(cell.paramCount()); // (4 + 3)·4 + 4 = 32
 * const state = cell.createState(1); // h, 4 zeros
 * const h = cell.step(state, Float32Array.of(1, 0, -1), 1); // state advanced in place; h views it
 * console.log(h.length); // 4
 * ```
 */
export class RnnCell extends RecurrentCell {
  /**
   * @param config - n_x, H, seed; `kind` may be left out
   * @param storage - views of a model's params and grads to use instead of fresh buffers
   * @throws RangeError/TypeError for a bad config or storage of the wrong length
   */
  constructor(config: Omit<CellConfig, 'kind'> & { kind?: 'rnn' }, storage?: CellStorage) {
    super({ ...config, kind: 'rnn' }, storage);
  }

  protected override fusable(): boolean {
    return true;
  }

  protected override fusedStep(
    h: Float32Array,
    _c: Float32Array,
    one: StepOneBuffers,
    Wih: Float32Array,
    x: Float32Array,
    b: Float32Array,
    nX: number,
  ): void {
    rnnStep(h, one.pre, Wih, x, this.wHh, b, nX, this.hiddenSize);
  }

  protected advance(tape: CellTape, t: number): void {
    const H = this.hiddenSize;
    const B = tape.B;
    const pre = tape.xPreT[t]!;
    this.linear(pre, tape.hRecT[t]!, this.wHh, B, H, H, true);
    rnnForward(tape.hsT[t + 1]!, pre, B, H);
  }

  protected retreat(tape: CellTape, t: number): void {
    const H = this.hiddenSize;
    const B = tape.B;
    const dPre = tape.dXPreT[t]!;
    rnnBackward(dPre, tape.dh, tape.hsT[t + 1]!, B, H);
    gemmAB(tape.dh, dPre, this.wHh, B, H, H, false);
    // Through W_hh·(h ⊙ m): the recurrent mask scales the gradient reaching h_{t-1}.
    if (tape.recMask !== null) maskInPlace(tape.dh, tape.recMask, B * H);
  }

  protected recurrentWeightGrads(tape: CellTape): void {
    const H = this.hiddenSize;
    gemmAtB(this.gWHh, tape.dXPre, tape.hRec, H, H, tape.T * tape.B, true);
  }
}
