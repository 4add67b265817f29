// The slices of the cells/model API (docs/contracts.md, "@rxrnn/cells") that the operators drive.
// Structural on purpose: the real Cell, Embedding, Dense and CharModel classes satisfy them, and so
// do hand-made test doubles. The operators never own these objects' buffers.

import type { CellKind } from '../../types.js';

export type { CellKind };

/** What the recurrent operators need from a cell (see `Cell` in docs/contracts.md). */
export interface StepCell {
  readonly kind: CellKind;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** Floats of state per batch row: H (rnn, gru) or 2H (lstm, `[h | c]`). */
  readonly stateSize: number;
  createState(B: number): Float32Array;
  /** Advances `state` in place from x `[B×n_x]`; returns h `[B×H]`, a view of state. */
  step(state: Float32Array, x: Float32Array, B: number): Float32Array;
}

/** What `embed()` needs from an embedding table. */
export interface TokenEmbedding {
  readonly vocabSize: number;
  readonly dim: number;
  lookup(out: Float32Array, ids: Int32Array, B: number): void;
}

/** What `dense()` needs from an output layer. */
export interface DenseLayer {
  readonly inSize: number;
  readonly outSize: number;
  forward(out: Float32Array, x: Float32Array, B: number): void;
}

/** The part of a CharModel's config that a state handle and `generate()` read. */
export interface StepModelConfig {
  readonly cell: CellKind;
  readonly vocab: readonly string[];
  readonly hidden: number;
  readonly layers?: number;
  readonly input?: string;
  readonly embeddingDim?: number;
  readonly gruVariant?: string;
}

/** What `generate()` and state handles need from a CharModel. */
export interface StepModel {
  readonly config: StepModelConfig;
  createState(B: number): Float32Array;
  /** tokens `[B]` → logits `[B×V]`, a view into the model's scratch valid until the next call. */
  step(tokens: Int32Array, state: Float32Array): Float32Array;
}
