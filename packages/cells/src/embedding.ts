// Embedding: token id → row of weight [V × E]; backward scatters row gradients into grads.
// Shapes: ids [rows], out/dOut [rows × E]. Weight/grad are allocF32 buffers or a model's views.
import { allocF32, Rng } from '@rxrnn/kernels';
import { checkF32, checkIds, checkPositiveInt } from './internal/checks.js';

export interface EmbeddingConfig {
  /** V, the number of token ids. */
  vocabSize: number;
  /** E, the vector size. */
  dim: number;
  /** Seed of the initializer's Rng; default 0. */
  seed?: number;
}

export class Embedding {
  readonly vocabSize: number;
  readonly dim: number;
  /** [V × E], row `id` is the vector of token `id`. */
  readonly weight: Float32Array;
  /** Gradient of `weight`, same layout; backward accumulates into it. */
  readonly grad: Float32Array;

  constructor(config: EmbeddingConfig, storage?: { params: Float32Array; grads: Float32Array }) {
    this.vocabSize = checkPositiveInt('Embedding', 'vocabSize', config?.vocabSize);
    this.dim = checkPositiveInt('Embedding', 'dim', config.dim);
    const n = this.vocabSize * this.dim;
    this.weight = storage ? checkF32('Embedding', 'storage.params', storage.params, n, 'V*E') : allocF32(n);
    this.grad = storage ? checkF32('Embedding', 'storage.grads', storage.grads, n, 'V*E') : allocF32(n);
    if (!storage) this.initialize(new Rng(config.seed ?? 0));
  }

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
