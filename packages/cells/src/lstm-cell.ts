// LstmCell: gate rows [i, f, g, o] (PyTorch), c' = f⊙c + i⊙g, h' = o⊙tanh(c'); G = 4.
// State per batch row is [h | c]; the tape keeps activated gates and every c for backward.
import { gemmAB, gemmAtB, lstmBackward, lstmForward, lstmSequence, lstmStep } from '@rxrnn/kernels';
import { type CellStorage, RecurrentCell, type StepOneBuffers } from './cell.js';
import type { CellTape } from './cell-tape.js';
import { maskInPlace } from './internal/dropout.js';
import type { CellConfig } from './types.js';

/**
 * The LSTM cell (nn.LSTMCell), four gate blocks (G = 4) in PyTorch's row order [i, f, g, o]. With
 * the course notes' names (Γ_u = i, Γ_f = f, c̃ = g, Γ_o = o) and [a, x] the concatenation:
 *
 *     Γ_u = σ(W_u [a⟨t−1⟩, x⟨t⟩] + b_u)      Γ_f = σ(W_f [a⟨t−1⟩, x⟨t⟩] + b_f)
 *     c̃⟨t⟩ = tanh(W_c [a⟨t−1⟩, x⟨t⟩] + b_c)   Γ_o = σ(W_o [a⟨t−1⟩, x⟨t⟩] + b_o)
 *     c⟨t⟩ = Γ_f ⊙ c⟨t−1⟩ + Γ_u ⊙ c̃⟨t⟩        a⟨t⟩ = Γ_o ⊙ tanh(c⟨t⟩)
 *
 * Each block has (n_a + n_x)·n_a + n_a parameters, 4·((n_a + n_x)·n_a + n_a) in all, stored as
 * weight_ih [4H, n_x], weight_hh [4H, H] and bias [4H]. The state of a batch row is [h | c]
 * (stateSize 2H). The forget-gate bias starts at `forgetBias` (default 1).
 *
 * @example
 * ```ts
 * import { LstmCell } from '@rxrnn/cells';
 * const cell = new LstmCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
 * console.log(cell.paramCount()); // 4·((4 + 3)·4 + 4) = 128
 * const state = cell.createState(2); // B = 2 rows of [h | c]: 16 zeros
 * const h = cell.step(state, Float32Array.of(1, 0, -1, 0, 1, 0), 2); // x [B × n_x]
 * console.log(h.length); // B·H = 8
 * ```
 */
export class LstmCell extends RecurrentCell {
  /**
   * @param config - n_x, H, seed, forgetBias; `kind` may be left out
   * @param storage - views of a model's params and grads to use instead of fresh buffers
   * @throws RangeError/TypeError for a bad config or storage of the wrong length
   */
  constructor(config: Omit<CellConfig, 'kind'> & { kind?: 'lstm' }, storage?: CellStorage) {
    super({ ...config, kind: 'lstm' }, storage);
  }

  protected override fusable(): boolean {
    return true;
  }

  /**
   * infer()'s dense window as one lstmSequence call: on the native backend one addon call, whose
   * outputs have forwardSequence's bits past the GEMM's small-batch cut.
   */
  protected override inferWindow(
    x: Float32Array,
    T: number,
    B: number,
    state: Float32Array,
    out: Float32Array,
  ): boolean {
    lstmSequence(out, state, x, this.wIh, this.wHh, this.b, T, B, this.inputSize, this.hiddenSize);
    return true;
  }

  protected override fusedStep(
    h: Float32Array,
    c: Float32Array,
    one: StepOneBuffers,
    Wih: Float32Array,
    x: Float32Array,
    b: Float32Array,
    nX: number,
  ): void {
    lstmStep(h, c, one.act, one.pre, Wih, x, this.wHh, b, nX, this.hiddenSize);
  }

  protected advance(tape: CellTape, t: number): void {
    const H = this.hiddenSize;
    const B = tape.B;
    const pre = tape.xPreT[t]!;
    this.linear(pre, tape.hRecT[t]!, this.wHh, B, 4 * H, H, true);
    lstmForward(tape.hsT[t + 1]!, tape.csT[t + 1]!, tape.actT[t]!, pre, tape.csT[t]!, B, H);
  }

  protected retreat(tape: CellTape, t: number): void {
    const H = this.hiddenSize;
    const B = tape.B;
    const dPre = tape.dXPreT[t]!;
    lstmBackward(dPre, tape.dc2, tape.dh, tape.dc, tape.actT[t]!, tape.csT[t]!, tape.csT[t + 1]!, B, H);
    // dc2 now holds dL/dc_{t-1}: swap so that tape.dc always names the current carrier.
    const dc = tape.dc;
    tape.dc = tape.dc2;
    tape.dc2 = dc;
    gemmAB(tape.dh, dPre, this.wHh, B, H, 4 * H, false);
    // Through W_hh·(h ⊙ m): the recurrent mask scales the gradient reaching h_{t-1}.
    if (tape.recMask !== null) maskInPlace(tape.dh, tape.recMask, B * H);
  }

  /** ∂L/∂c_t = (∂L/∂c_t through c_{t+1}) + ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh²(c_t)), for an observer. */
  protected override cellStateGradient(tape: CellTape, t: number): Float32Array {
    const H = this.hiddenSize;
    const B = tape.B;
    const out = tape.observerScratch();
    const act = tape.actT[t]!;
    const c = tape.csT[t + 1]!;
    const dh = tape.dh;
    const dc = tape.dc;
    for (let b = 0; b < B; b++) {
      const o = b * 4 * H + 3 * H;
      for (let j = 0; j < H; j++) {
        const i = b * H + j;
        const th = Math.tanh(c[i]!);
        out[i] = dc[i]! + dh[i]! * act[o + j]! * (1 - th * th);
      }
    }
    return out;
  }

  protected recurrentWeightGrads(tape: CellTape): void {
    const H = this.hiddenSize;
    gemmAtB(this.gWHh, tape.dXPre, tape.hRec, 4 * H, H, tape.T * tape.B, true);
  }
}
