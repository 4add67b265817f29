// LstmCell: gate rows [i, f, g, o] (PyTorch), c' = f⊙c + i⊙g, h' = o⊙tanh(c'); G = 4.
// State per batch row is [h | c]; the tape keeps activated gates and every c for backward.
import { gemmAB, gemmAtB, lstmBackward, lstmForward, lstmStep } from '@rxrnn/kernels';
import { type CellStorage, RecurrentCell, type StepOneBuffers } from './cell.js';
import type { CellTape } from './cell-tape.js';
import { maskInPlace } from './internal/dropout.js';
import type { CellConfig } from './types.js';

export class LstmCell extends RecurrentCell {
  constructor(config: Omit<CellConfig, 'kind'> & { kind?: 'lstm' }, storage?: CellStorage) {
    super({ ...config, kind: 'lstm' }, storage);
  }

  protected override fusable(): boolean {
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
