// Helpers the conformance kinds share: PyTorch mode names, the {shape, data} tensor encoding of
// SCHEMA.md, and the float64 Σ a·b that the fixtures' losses are made of.
import type { CellKind } from '@rxrnn/cells';

/** SCHEMA.md mode names → the project's cell kinds. */
export const MODES: Record<string, CellKind> = { RNN_TANH: 'rnn', GRU: 'gru', LSTM: 'lstm' };

/** A tensor as SCHEMA.md writes it: row-major data under its shape. */
export const enc = (shape: number[], data: ArrayLike<number>) => ({ shape, data: Array.from(data) });

/** Σ a[i]·b[i] in float64 (the fixtures' loss = Σ output·G + ...). */
export function sumProd(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
