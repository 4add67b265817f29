// Gate orders between rxrnn and ONNX: rxrnn (PyTorch) stacks LSTM rows [i, f, g, o] and GRU rows
// [r, z, n]; ONNX stacks LSTM [i, o, f, c] and GRU [z, r, h]. One direction's W [G·H × n_x],
// R [G·H × H] and B [2·G·H] (Wb | Rb) ↔ a cell's params [weight_ih | weight_hh | bias (| bias_hn)].
import { cellLayout } from '../cell.js';
import type { CellKind, GruVariant } from '../types.js';

/** Gate blocks per kind. */
export const GATE_COUNT: Record<CellKind, number> = { rnn: 1, gru: 3, lstm: 4 };

/** ONNX operator of each kind. */
export const ONNX_OP: Record<CellKind, 'RNN' | 'GRU' | 'LSTM'> = { rnn: 'RNN', gru: 'GRU', lstm: 'LSTM' };

/** For ONNX gate block j, the rxrnn block it holds: LSTM i←i, o←o, f←f, c←g; GRU z←z, r←r, h←n. */
const ONNX_TO_RXRNN: Record<CellKind, readonly number[]> = { rnn: [0], gru: [1, 0, 2], lstm: [0, 3, 1, 2] };

/** One direction of an ONNX recurrent node, in ONNX's gate order. */
export interface OnnxDirectionWeights {
  /** [G·H × n_x] */
  W: Float32Array;
  /** [G·H × H] */
  R: Float32Array;
  /** Wb [G·H] */
  Wb: Float32Array;
  /** Rb [G·H] */
  Rb: Float32Array;
}

function copyBlocks(
  out: Float32Array,
  src: ArrayLike<number>,
  kind: CellKind,
  H: number,
  cols: number,
  toOnnx: boolean,
): void {
  const perm = ONNX_TO_RXRNN[kind];
  const block = H * cols;
  for (let j = 0; j < perm.length; j++) {
    const onnxOff = j * block;
    const rxOff = perm[j]! * block;
    for (let i = 0; i < block; i++) {
      if (toOnnx) out[onnxOff + i] = src[rxOff + i]!;
      else out[rxOff + i] = src[onnxOff + i]!;
    }
  }
}

/**
 * One direction's ONNX weights from a cell's params (laid out as cellLayout): W and R with the
 * gate blocks reordered; Wb = the single bias; Rb = zeros, except a reset-after GRU's h block,
 * which holds b_hn (the form linear_before_reset = 1 computes).
 */
export function onnxWeightsOf(
  kind: CellKind,
  gruVariant: GruVariant,
  inputSize: number,
  H: number,
  params: Float32Array,
): OnnxDirectionWeights {
  const G = GATE_COUNT[kind];
  const views = cellLayout({ kind, gruVariant, inputSize, hiddenSize: H, seed: 0, forgetBias: 1 }).views;
  const at = (name: string) => {
    const v = views.find((x) => x.name === name)!;
    return params.subarray(v.offset, v.offset + v.shape.reduce((a, b) => a * b, 1));
  };
  const W = new Float32Array(G * H * inputSize);
  const R = new Float32Array(G * H * H);
  const Wb = new Float32Array(G * H);
  const Rb = new Float32Array(G * H);
  copyBlocks(W, at('weight_ih'), kind, H, inputSize, true);
  copyBlocks(R, at('weight_hh'), kind, H, H, true);
  copyBlocks(Wb, at('bias'), kind, H, 1, true);
  if (kind === 'gru' && gruVariant === 'reset-after') Rb.set(at('bias_hn'), 2 * H);
  return { W, R, Wb, Rb };
}

/**
 * A cell's params (cellLayout order) from one direction's ONNX weights: blocks reordered, and the
 * biases folded as the PyTorch import does: bias = Wb + Rb (summed in float64, stored float32),
 * except a reset-after GRU's n block, which keeps Wb in bias and Rb in bias_hn.
 */
export function cellParamsOf(
  kind: CellKind,
  gruVariant: GruVariant,
  inputSize: number,
  H: number,
  w: OnnxDirectionWeights,
): Float32Array {
  const G = GATE_COUNT[kind];
  const layout = cellLayout({ kind, gruVariant, inputSize, hiddenSize: H, seed: 0, forgetBias: 1 });
  const params = new Float32Array(layout.size);
  const at = (name: string) => {
    const v = layout.views.find((x) => x.name === name)!;
    return params.subarray(v.offset, v.offset + v.shape.reduce((a, b) => a * b, 1));
  };
  copyBlocks(at('weight_ih'), w.W, kind, H, inputSize, false);
  copyBlocks(at('weight_hh'), w.R, kind, H, H, false);
  const sum = new Float64Array(G * H);
  for (let j = 0; j < G * H; j++) sum[j] = w.Wb[j]! + w.Rb[j]!;
  const resetAfter = kind === 'gru' && gruVariant === 'reset-after';
  if (resetAfter) {
    for (let j = 2 * H; j < 3 * H; j++) sum[j] = w.Wb[j]!;
    at('bias_hn').set(w.Rb.subarray(2 * H, 3 * H));
  }
  copyBlocks(at('bias'), sum, kind, H, 1, false);
  return params;
}
