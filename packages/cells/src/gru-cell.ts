// GruCell: gate rows [r, z, n] (PyTorch), h' = (1 − z)⊙n + z⊙h, in two variants (GruVariant):
// reset-after keeps b_hn apart (H extra params) and imports PyTorch exactly; reset-before applies r
// to h before W_hn (Cho et al., the course notes). Shapes: x [B × n_x], h [B × H]; buffers in the tape.
import {
  allocF32,
  gemmAB,
  gemmAtB,
  gemvT,
  gruBackward,
  gruForward,
  gruNBackward,
  gruNForward,
  gruRzBackward,
  gruRzForward,
  gruSequence,
  gruStep,
} from '@rxrnn/kernels';
import { type CellStorage, RecurrentCell, type StepOneBuffers } from './cell.js';
import type { CellTape } from './cell-tape.js';
import { slice } from './internal/layout.js';
import type { CellConfig } from './types.js';

/**
 * The GRU cell (nn.GRUCell), three gate blocks (G = 3) in PyTorch's row order [r, z, n]:
 *
 *     r = σ(W_ir x + W_hr h + b_r)     z = σ(W_iz x + W_hz h + b_z)
 *     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))      ('reset-after', the default)
 *     n = tanh(W_in x + W_hn (r ⊙ h) + b_n)              ('reset-before')
 *     h' = (1 − z) ⊙ n + z ⊙ h
 *
 * In the course notes' names Γ_r = r, c̃ = n and Γ_u = 1 − z (PyTorch's z keeps the old state), and
 * the course's cell is 'reset-before': 3·((n_a + n_x)·n_a + n_a) parameters, weight_ih [3H, n_x],
 * weight_hh [3H, H], bias [3H]. 'reset-after' keeps b_hn apart (H more parameters, bias_hn [H]) and
 * imports PyTorch weights exactly. The state of a batch row is h (stateSize H).
 *
 * @example
 * ```ts
 * import { GruCell } from '@rxrnn/cells';
 * const cell = new GruCell({ inputSize: 3, hiddenSize: 4, gruVariant: 'reset-before', seed: 1 });
 * console.log(cell.paramCount()); // 3·((4 + 3)·4 + 4) = 96 (reset-after: 100)
 * const state = cell.createState(1);
 * cell.step(state, Int32Array.of(2), 1); // a one-hot input: id 2 of n_x = 3
 * ```
 */
export class GruCell extends RecurrentCell {
  /** reset-after: b_hn [H] and its gradient; [0 | 0 | b_hn] is the bias of W_hh·h. */
  private readonly bHn: Float32Array;
  private readonly gBHn: Float32Array;
  private readonly hBias: Float32Array;
  /** reset-before: W_h{r,z} [2H × H] and W_hn [H × H], views of weight_hh. */
  private readonly wHhRz: Float32Array;
  private readonly wHn: Float32Array;
  private readonly gWHhRz: Float32Array;
  private readonly gWHn: Float32Array;

  /**
   * @param config - n_x, H, seed, gruVariant; `kind` may be left out
   * @param storage - views of a model's params and grads to use instead of fresh buffers
   * @throws RangeError/TypeError for a bad config or storage of the wrong length
   */
  constructor(config: Omit<CellConfig, 'kind'> & { kind?: 'gru' }, storage?: CellStorage) {
    super({ ...config, kind: 'gru' }, storage);
    const H = this.hiddenSize;
    const hn = this.views().find((v) => v.name === 'bias_hn');
    this.bHn = hn ? slice(this.params, hn) : new Float32Array(0);
    this.gBHn = hn ? slice(this.grads, hn) : new Float32Array(0);
    // In WASM memory: the fused batch-1 step reads it by pointer.
    this.hBias = hn ? allocF32(3 * H) : new Float32Array(0);
    this.wHhRz = this.wHh.subarray(0, 2 * H * H);
    this.wHn = this.wHh.subarray(2 * H * H);
    this.gWHhRz = this.gWHh.subarray(0, 2 * H * H);
    this.gWHn = this.gWHh.subarray(2 * H * H);
  }

  private get after(): boolean {
    return this.gruVariant === 'reset-after';
  }

  protected override prepare(): void {
    if (this.after) this.hBias.set(this.bHn, 2 * this.hiddenSize);
  }

  protected override fusable(): boolean {
    return this.after;
  }

  /**
   * infer()'s dense window as one gruSequence call (reset-after; reset-before steps through it):
   * on the native backend one addon call, whose outputs have forwardSequence's bits past the GEMM's
   * small-batch cut.
   */
  protected override inferWindow(
    x: Float32Array,
    T: number,
    B: number,
    state: Float32Array,
    out: Float32Array,
  ): boolean {
    if (!this.after) return false;
    gruSequence(out, state, x, this.wIh, this.wHh, this.b, this.bHn, T, B, this.inputSize, this.hiddenSize);
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
    this.prepare();
    gruStep(h, one.act, one.pre, one.hPre, Wih, x, this.wHh, b, this.hBias, nX, this.hiddenSize);
  }

  protected advance(tape: CellTape, t: number): void {
    const H = this.hiddenSize;
    const B = tape.B;
    const xPre = tape.xPreT[t]!;
    const hPrev = tape.hsT[t]!;
    // The recurrent products read hRec (h, or h ⊙ recMask); the z·h interpolation reads h itself.
    const hRec = tape.hRecT[t]!;
    if (this.after) {
      const hPre = tape.hPreT[t]!;
      // hPre = W_hh·h + [0 | 0 | b_hn]: seeded with the bias, then the product accumulates.
      for (let b = 0; b < B; b++) hPre.set(this.hBias, b * 3 * H);
      this.linear(hPre, hRec, this.wHh, B, 3 * H, H, true);
      gruForward(tape.hsT[t + 1]!, tape.actT[t]!, xPre, hPre, hPrev, B, H);
    } else {
      const hPreRz = tape.hPreRzT[t]!;
      const rh = tape.rhT[t]!;
      const hn = tape.hnT[t]!;
      const act = tape.actT[t]!;
      this.linear(hPreRz, hRec, this.wHhRz, B, 2 * H, H, false);
      gruRzForward(act, rh, xPre, hPreRz, hRec, B, H);
      this.linear(hn, rh, this.wHn, B, H, H, false);
      gruNForward(tape.hsT[t + 1]!, act, xPre, hn, hPrev, B, H);
    }
  }

  protected retreat(tape: CellTape, t: number): void {
    const H = this.hiddenSize;
    const B = tape.B;
    const dxPre = tape.dXPreT[t]!;
    const hPrev = tape.hsT[t]!;
    const act = tape.actT[t]!;
    const mask = tape.recMask;
    // With a recurrent mask, the gradient w.r.t. the masked h goes through dRec, then ⊙ mask into dh2.
    const dRec = mask === null ? tape.dh2 : tape.dRec;
    if (this.after) {
      const dhPre = tape.dHPreT[t]!;
      gruBackward(dxPre, dhPre, tape.dh2, tape.dh, act, tape.hPreT[t]!, hPrev, B, H);
      gemmAB(dRec, dhPre, this.wHh, B, H, 3 * H, mask === null);
    } else {
      const dhn = tape.dHnT[t]!;
      const dhPreRz = tape.dHPreRzT[t]!;
      gruNBackward(dxPre, dhn, tape.dh2, tape.dh, act, hPrev, B, H);
      gemmAB(tape.drh, dhn, this.wHn, B, H, H, false);
      // gruRzBackward adds r·drh to its dhPrev argument: start the masked path from zeros.
      if (mask !== null) dRec.fill(0);
      gruRzBackward(dxPre, dhPreRz, dRec, tape.drh, act, tape.hRecT[t]!, B, H);
      gemmAB(dRec, dhPreRz, this.wHhRz, B, H, 2 * H, true);
    }
    if (mask !== null) {
      const dh2 = tape.dh2;
      for (let i = 0; i < B * H; i++) dh2[i] = dh2[i]! + dRec[i]! * mask[i]!;
    }
    // dh2 now holds dL/dh_{t-1}: swap so that tape.dh always names the current carrier.
    const dh = tape.dh;
    tape.dh = tape.dh2;
    tape.dh2 = dh;
  }

  protected recurrentWeightGrads(tape: CellTape): void {
    const H = this.hiddenSize;
    const rows = tape.T * tape.B;
    if (this.after) {
      gemmAtB(this.gWHh, tape.dHPre, tape.hRec, 3 * H, H, rows, true);
      // b_hn's gradient is the n block of dhPre's column sums.
      gemvT(tape.colSums, tape.dHPre, tape.ones, rows, 3 * H, false);
      const g = this.gBHn;
      const s = tape.colSums;
      for (let j = 0; j < H; j++) g[j] = g[j]! + s[2 * H + j]!;
    } else {
      gemmAtB(this.gWHhRz, tape.dHPreRz, tape.hRec, 2 * H, H, rows, true);
      gemmAtB(this.gWHn, tape.dHn, tape.rh, H, H, rows, true);
    }
  }

  protected override checkTorchCompatible(where: string): void {
    if (!this.after) {
      throw new TypeError(
        `${where}: PyTorch's GRU is reset-after; a gruVariant 'reset-before' cell computes a different function, so its weights cannot move to or from PyTorch unchanged (use gruVariant 'reset-after')`,
      );
    }
  }

  protected override importSplitBias(bIh: ArrayLike<number>, bHh: ArrayLike<number>): void {
    const H = this.hiddenSize;
    for (let j = 0; j < H; j++) {
      this.b[2 * H + j] = bIh[2 * H + j]!;
      this.bHn[j] = bHh[2 * H + j]!;
    }
  }

  protected override exportSplitBias(which: 'params' | 'grads', _bIh: Float32Array, bHh: Float32Array): void {
    // The n block's bias_ih already holds b_in (or its gradient) from the single bias vector;
    // bias_hh's n block is b_hn itself.
    bHh.set(which === 'grads' ? this.gBHn : this.bHn, 2 * this.hiddenSize);
  }
}
