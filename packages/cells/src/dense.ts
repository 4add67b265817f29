// Dense: the output layer, out [B × n_y] = x [B × n_a] · weightᵀ + bias, weight [n_y × n_a]
// (PyTorch nn.Linear layout). Params [weight | bias] are allocF32 buffers or a model's views.
import { allocF32, freeF32, gemmAB, gemmABt, gemmAtB, gemv, gemvT, initGlorotUniform, Rng } from '@rxrnn/kernels';
import { checkF32, checkPositiveInt } from './internal/checks.js';

/** The shape of a {@link Dense} layer. */
export interface DenseConfig {
  /** n_a, the input size. */
  inSize: number;
  /** n_y, the output size (V for logits). */
  outSize: number;
  /** Seed of the initializer's Rng; default 0. */
  seed?: number;
}

/**
 * A fully connected layer, PyTorch's `nn.Linear`: `out = x·Wᵀ + b` for a batch of rows, with
 * `W [n_y × n_a]` and `b [n_y]` in one flat buffer `[W | b]` (the course notes' output layer,
 * `n_a·n_y + n_y` parameters). `forward` computes logits, `backward` accumulates gradients.
 *
 * @example
 * ```ts
 * import { Dense } from '@rxrnn/cells';
 * const head = new Dense({ inSize: 4, outSize: 3, seed: 1 });
 * const logits = new Float32Array(3);
 * head.forward(logits, Float32Array.of(1, 0, 0, 1), 1); // B = 1 row of n_a = 4
 * console.log(head.params.length); // 4·3 + 3 = 15
 * ```
 */
export class Dense {
  /** n_a, the input size. */
  readonly inSize: number;
  /** n_y, the output size. */
  readonly outSize: number;
  /** [weight (n_y × n_a) | bias (n_y)], one buffer. */
  readonly params: Float32Array;
  /** Gradients, same layout as `params`; backward accumulates into it. */
  readonly grads: Float32Array;
  /** W `[n_y × n_a]`, a view of `params`. */
  readonly weight: Float32Array;
  /** b `[n_y]`, a view of `params`. */
  readonly bias: Float32Array;
  /** dL/dW, a view of `grads`. */
  readonly gradWeight: Float32Array;
  /** dL/db, a view of `grads`. */
  readonly gradBias: Float32Array;
  private ones: Float32Array = new Float32Array(0);

  /**
   * A layer initialized Glorot-uniform (bias 0) from `config.seed`, or on caller-owned buffers.
   *
   * @param storage - `params` and `grads` of `n_a·n_y + n_y` floats to use instead (not initialized).
   * @throws RangeError/TypeError for bad sizes or storage of the wrong length.
   */
  constructor(config: DenseConfig, storage?: { params: Float32Array; grads: Float32Array }) {
    this.inSize = checkPositiveInt('Dense', 'inSize', config?.inSize);
    this.outSize = checkPositiveInt('Dense', 'outSize', config.outSize);
    const nW = this.outSize * this.inSize;
    const n = nW + this.outSize;
    this.params = storage ? checkF32('Dense', 'storage.params', storage.params, n, 'n_a*n_y + n_y') : allocF32(n);
    this.grads = storage ? checkF32('Dense', 'storage.grads', storage.grads, n, 'n_a*n_y + n_y') : allocF32(n);
    this.weight = this.params.subarray(0, nW);
    this.bias = this.params.subarray(nW);
    this.gradWeight = this.grads.subarray(0, nW);
    this.gradBias = this.grads.subarray(nW);
    if (!storage) this.initialize(new Rng(config.seed ?? 0));
  }

  /** n_a·n_y + n_y (the course formula). */
  paramCount(): number {
    return this.params.length;
  }

  /** Default init: Glorot-uniform weight, zero bias. */
  initialize(rng: Rng): void {
    initGlorotUniform(this.weight, rng, this.inSize, this.outSize);
    this.bias.fill(0);
  }

  /** out [B × n_y] = x [B × n_a] · weightᵀ + bias (gemv for one row, the streaming case). */
  forward(out: Float32Array, x: Float32Array, B: number): void {
    checkPositiveInt('Dense.forward', 'B', B);
    checkF32('Dense.forward', 'x', x, B * this.inSize, 'B*n_a');
    checkF32('Dense.forward', 'out', out, B * this.outSize, 'B*n_y');
    // Seed each row with the bias (a memcpy), then accumulate the product on top of it.
    for (let r = 0; r < B; r++) out.set(this.bias, r * this.outSize);
    if (B === 1) gemv(out, this.weight, x, this.outSize, this.inSize, true);
    else gemmABt(out, x, this.weight, B, this.outSize, this.inSize, true);
  }

  /**
   * Accumulates dW += dOutᵀ·x and db += column sums of dOut over B rows (one GEMM, one gemvT);
   * writes dx [B × n_a] = dOut·W when given.
   */
  backward(dOut: Float32Array, x: Float32Array, B: number, dx: Float32Array | null): void {
    checkPositiveInt('Dense.backward', 'B', B);
    checkF32('Dense.backward', 'dOut', dOut, B * this.outSize, 'B*n_y');
    checkF32('Dense.backward', 'x', x, B * this.inSize, 'B*n_a');
    if (dx !== null) checkF32('Dense.backward', 'dx', dx, B * this.inSize, 'B*n_a');
    if (this.ones.length !== B) {
      freeF32(this.ones);
      this.ones = allocF32(B);
      this.ones.fill(1);
    }
    gemmAtB(this.gradWeight, dOut, x, this.outSize, this.inSize, B, true);
    gemvT(this.gradBias, dOut, this.ones, B, this.outSize, true);
    if (dx !== null) gemmAB(dx, dOut, this.weight, B, this.inSize, this.outSize, false);
  }
}
