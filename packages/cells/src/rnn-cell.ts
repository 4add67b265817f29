// RnnCell: the tanh RNN, h' = tanh(W_ih x + W_hh h + b); one gate block (G = 1).
// Shapes: x [B × n_x], h [B × H]; the per-step buffers live in the CellTape.
import { gemmAB, gemmAtB, rnnBackward, rnnForward, rnnStep } from '@rxrnn/kernels';
import { type CellStorage, RecurrentCell, type StepOneBuffers } from './cell.js';
import type { CellTape } from './cell-tape.js';
import { maskInPlace } from './internal/dropout.js';
import type { CellConfig } from './types.js';

export class RnnCell extends RecurrentCell {
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
