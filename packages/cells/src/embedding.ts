// Embedding: token id → row of weight [V × E]; backward scatters row gradients into grads.
// Shapes: ids [rows], out/dOut [rows × E]. Weight/grad are allocF32 buffers or a model's views.
import { allocF32, Rng } from '@rxrnn/kernels';
import { checkF32, checkIds, checkPositiveInt } from './internal/checks.js';

/** The shape of an {@link Embedding}. */
export interface EmbeddingConfig {
  /** V, the number of token ids. */
  vocabSize: number;
  /** E, the vector size. */
  dim: number;
  /** Seed of the initializer's Rng; default 0. */
  seed?: number;
}

/**
 * A learned table of token vectors, PyTorch's `nn.Embedding`: `lookup` copies row `id` of
 * `weight [V × E]` for each id; `backward` adds each row's gradient into `grad`.
 *
 * @example
 * ```ts
 * import { Embedding } from '@rxrnn/cells';
 * const emb = new Embedding({ vocabSize: 10, dim: 4, seed: 1 });
 * const out = new Float32Array(2 * 4);
 * emb.lookup(out, Int32Array.of(3, 7), 2); // rows 3 and 7
 * ```
 */
export class Embedding {
  /** V, the number of token ids. */
  readonly vocabSize: number;
  /** E, the vector size. */
  readonly dim: number;
  /** [V × E], row `id` is the vector of token `id`. */
  readonly weight: Float32Array;
  /** Gradient of `weight`, same layout; backward accumulates into it. */
  readonly grad: Float32Array;

  /**
   * A table initialized from `config.seed`, or on caller-owned buffers.
   *
   * @param storage - `params` and `grads` of `V·E` floats to use instead (not initialized).
   * @throws RangeError/TypeError for bad sizes or storage of the wrong length.
   */
  constructor(config: EmbeddingConfig, storage?: { params: Float32Array; grads: Float32Array }) {
    this.vocabSize = checkPositiveInt('Embedding', 'vocabSize', config?.vocabSize);
    this.dim = checkPositiveInt('Embedding', 'dim', config.dim);
    const n = this.vocabSize * this.dim;
    this.weight = storage ? checkF32('Embedding', 'storage.params', storage.params, n, 'V*E') : allocF32(n);
    this.grad = storage ? checkF32('Embedding', 'storage.grads', storage.grads, n, 'V*E') : allocF32(n);
    if (!storage) this.initialize(new Rng(config.seed ?? 0));
  }

  /** V·E. */
  paramCount(): number {
    return this.weight.length;
  }

  /** Default init: N(0, 1) per element, as PyTorch's nn.Embedding. */
  initialize(rng: Rng): void {
    for (let i = 0; i < this.weight.length; i++) this.weight[i] = rng.normal();
  }

  /** out [B × E] = the rows of `ids` [B]. */
  lookup(out: Float32Array, ids: Int32Array, B: number): void {
    checkIds('Embedding.lookup', 'ids', ids, B, this.vocabSize);
    checkF32('Embedding.lookup', 'out', out, B * this.dim, 'B*E');
    const E = this.dim;
    const W = this.weight;
    for (let r = 0; r < B; r++) {
      const src = ids[r]! * E;
      const dst = r * E;
      for (let j = 0; j < E; j++) out[dst + j] = W[src + j]!;
    }
  }

  /** grad[ids[r]] += dOut[r] for every row r (ids as given to lookup). */
  backward(dOut: Float32Array, ids: Int32Array, B: number): void {
    checkIds('Embedding.backward', 'ids', ids, B, this.vocabSize);
    checkF32('Embedding.backward', 'dOut', dOut, B * this.dim, 'B*E');
    const E = this.dim;
    const g = this.grad;
    for (let r = 0; r < B; r++) {
      const dst = ids[r]! * E;
      const src = r * E;
      for (let j = 0; j < E; j++) g[dst + j] = g[dst + j]! + dOut[src + j]!;
    }
  }
}
