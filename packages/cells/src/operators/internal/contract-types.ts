// The slices of the cells/model API (docs/contracts.md, "@rxrnn/cells") that the operators drive.
// Structural on purpose: the real Cell, Embedding, Dense and CharModel classes satisfy them, and so
// do hand-made test doubles. The operators never own these objects' buffers.

import type { CellKind } from '../../types.js';

export type { CellKind };

/** What the recurrent operators need from a cell (see `Cell` in docs/contracts.md). */
export interface StepCell {
  /** Which cell; the operator of that name accepts it. */
  readonly kind: CellKind;
  /** n_x. */
  readonly inputSize: number;
  /** H. */
  readonly hiddenSize: number;
  /** Floats of state per batch row: H (rnn, gru) or 2H (lstm, `[h | c]`). */
  readonly stateSize: number;
  /** Zeros for B rows, `[B × stateSize]`. */
  createState(B: number): Float32Array;
  /** Advances `state` in place from x `[B×n_x]`; returns h `[B×H]`, a view of state. */
  step(state: Float32Array, x: Float32Array, B: number): Float32Array;
}

/** What `embed()` needs from an embedding table. */
export interface TokenEmbedding {
  /** V. */
  readonly vocabSize: number;
  /** E. */
  readonly dim: number;
  /** Writes the rows of `ids` [B] into out [B × E]. */
  lookup(out: Float32Array, ids: Int32Array, B: number): void;
}

/** What `dense()` needs from an output layer. */
export interface DenseLayer {
  /** Input size. */
  readonly inSize: number;
  /** Output size. */
  readonly outSize: number;
  /** out [B × outSize] = x [B × inSize] · Wᵀ + b. */
  forward(out: Float32Array, x: Float32Array, B: number): void;
}

/** The part of a CharModel's config that a state handle and `generate()` read. */
export interface StepModelConfig {
  /** The cell kind. */
  readonly cell: CellKind;
  /** The characters in id order (V). */
  readonly vocab: readonly string[];
  /** H. */
  readonly hidden: number;
  /** L, default 1. */
  readonly layers?: number;
  /** 'embedding' or 'onehot'. */
  readonly input?: string;
  /** E. */
  readonly embeddingDim?: number;
  /** GRU candidate form. */
  readonly gruVariant?: string;
}

/** What `generate()` and state handles need from a CharModel. */
export interface StepModel {
  /** The model's config. */
  readonly config: StepModelConfig;
  /** Zeros for B rows, all layers. */
  createState(B: number): Float32Array;
  /** tokens `[B]` → logits `[B×V]`, a view into the model's scratch valid until the next call. */
  step(tokens: Int32Array, state: Float32Array): Float32Array;
}
