// Test-only character-level tanh RNN built from @rxrnn/kernels (no @rxrnn/cells): one-hot input x
// [V], h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h) [H], logits_t = W_hy h_t + b_y [V]. Parameters and
// gradients are two flat Float32Arrays with the same views; every buffer is owned by the model.
import { gemmAB, gemmAtB, gemv, gemvT, Rng, rnnBackward, rnnForward, softmaxCrossEntropy } from '@rxrnn/kernels';

export interface TanhRnnConfig {
  /** Vocabulary size V. */
  V: number;
  /** Hidden size H. */
  H: number;
  /** Window length T. */
  T: number;
  /** Std of W_hh entries is recurrentScale / sqrt(H): > 1 makes the recurrence expansive. */
  recurrentScale: number;
  seed: number;
}

export class TanhRnn {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  /** Views into params (the same offsets index grads): W_xh [H×V], W_hh [H×H], b_h, W_hy [V×H], b_y. */
  readonly views: { name: string; offset: number; length: number }[];
  private readonly hs: Float32Array; // [(T+1) × H], row 0 = h_0 = 0
  private readonly xs: Float32Array; // [T × V] one-hot rows
  private readonly pre: Float32Array; // [H]
  private readonly logits: Float32Array; // [T × V]
  private readonly dLogits: Float32Array; // [T × V]
  private readonly lossPerRow: Float32Array; // [T]
  private readonly dHs: Float32Array; // [T × H] loss gradient reaching each h_t from its output
  private readonly dPre: Float32Array; // [T × H]
  private readonly dh: Float32Array; // [H]
  private readonly dhNext: Float32Array; // [H]

  constructor(readonly config: TanhRnnConfig) {
    const { V, H, T, recurrentScale, seed } = config;
    const sizes: [string, number][] = [
      ['Wxh', H * V],
      ['Whh', H * H],
      ['bh', H],
      ['Why', V * H],
      ['by', V],
    ];
    let offset = 0;
    this.views = sizes.map(([name, length]) => {
      const v = { name, offset, length };
      offset += length;
      return v;
    });
    this.params = new Float32Array(offset);
    this.grads = new Float32Array(offset);
    const rng = new Rng(seed);
    const init = (name: string, sd: number) => {
      const p = this.view(this.params, name);
      for (let i = 0; i < p.length; i++) p[i] = sd * rng.normal();
    };
    init('Wxh', 0.1);
    init('Whh', recurrentScale / Math.sqrt(H));
    init('Why', 0.1);
    this.hs = new Float32Array((T + 1) * H);
    this.xs = new Float32Array(T * V);
    this.pre = new Float32Array(H);
    this.logits = new Float32Array(T * V);
    this.dLogits = new Float32Array(T * V);
    this.lossPerRow = new Float32Array(T);
    this.dHs = new Float32Array(T * H);
    this.dPre = new Float32Array(T * H);
    this.dh = new Float32Array(H);
    this.dhNext = new Float32Array(H);
  }

  view(buffer: Float32Array, name: string): Float32Array {
    const v = this.views.find((x) => x.name === name)!;
    return buffer.subarray(v.offset, v.offset + v.length);
  }

  /** Gradient views in layout order, the list form clipping accepts. */
  gradViews(): Float32Array[] {
    return this.views.map((v) => this.grads.subarray(v.offset, v.offset + v.length));
  }

  /** Forward from h_0 = 0 over inputs[0..T), loss against targets; gradients overwrite `grads`. Returns the summed loss (nats). */
  lossAndGrad(inputs: Int32Array, targets: Int32Array): number {
    const { V, H, T } = this.config;
    const p = (n: string) => this.view(this.params, n);
    const g = (n: string) => this.view(this.grads, n);
    const [Wxh, Whh, bh, Why, by] = [p('Wxh'), p('Whh'), p('bh'), p('Why'), p('by')];
    this.xs.fill(0);
    for (let t = 0; t < T; t++) this.xs[t * V + inputs[t]!] = 1;
    this.hs.fill(0, 0, H);
    for (let t = 0; t < T; t++) {
      const hPrev = this.hs.subarray(t * H, (t + 1) * H);
      const h = this.hs.subarray((t + 1) * H, (t + 2) * H);
      this.pre.set(bh);
      gemv(this.pre, Wxh, this.xs.subarray(t * V, (t + 1) * V), H, V, true);
      gemv(this.pre, Whh, hPrev, H, H, true);
      rnnForward(h, this.pre, 1, H);
      const out = this.logits.subarray(t * V, (t + 1) * V);
      out.set(by);
      gemv(out, Why, h, V, H, true);
    }
    const loss = softmaxCrossEntropy(this.dLogits, this.lossPerRow, this.logits, targets, T, V);
    const hOut = this.hs.subarray(H); // h_1..h_T [T × H]
    const hIn = this.hs.subarray(0, T * H); // h_0..h_{T-1}
    gemmAtB(g('Why'), this.dLogits, hOut, V, H, T);
    columnSums(g('by'), this.dLogits, T, V);
    gemmAB(this.dHs, this.dLogits, Why, T, H, V);
    // Backpropagation through time: each step's hidden gradient is its output's plus the next step's.
    this.dhNext.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      for (let j = 0; j < H; j++) this.dh[j] = this.dHs[t * H + j]! + this.dhNext[j]!;
      const dPre = this.dPre.subarray(t * H, (t + 1) * H);
      rnnBackward(dPre, this.dh, hOut.subarray(t * H, (t + 1) * H), 1, H);
      gemvT(this.dhNext, Whh, dPre, H, H);
    }
    gemmAtB(g('Wxh'), this.dPre, this.xs, H, V, T);
    gemmAtB(g('Whh'), this.dPre, hIn, H, H, T);
    columnSums(g('bh'), this.dPre, T, H);
    return loss;
  }

  /** Plain SGD: params -= lr · grads. */
  sgdStep(lr: number): void {
    for (let i = 0; i < this.params.length; i++) this.params[i] = this.params[i]! - lr * this.grads[i]!;
  }
}

function columnSums(out: Float32Array, m: Float32Array, rows: number, cols: number): void {
  out.fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] = out[c]! + m[r * cols + c]!;
}
