// One recurrent layer as an ONNX LSTM/GRU/RNN node (forward or bidirectional) with its weights as
// initializers, and the slicing of the graph's h0/c0 [L·D, B, H] into the layer's initial state.
// Shared by the exporters of this package and @rxrnn/bidirectional/onnx.
import type { CellKind, GruVariant } from '../types.js';
import { GATE_COUNT, ONNX_OP, onnxWeightsOf } from './gates.js';
import type { OnnxGraphBuilder } from './graph-builder.js';

/** What the exporter needs of one layer: its kind, sizes and one params buffer per direction. */
export interface OnnxLayerSpec {
  kind: CellKind;
  gruVariant: GruVariant;
  /** n_x of this layer. */
  inputSize: number;
  /** H per direction. */
  hiddenSize: number;
  /** Per direction (forward, then reverse), the cell's params in cellLayout order. */
  directions: readonly Float32Array[];
}

/**
 * Rows [k·D, (k+1)·D) of a state input [L·D, B, H] by a Slice on axis 0 (the whole input when
 * L = 1). `state` '' gives ''.
 */
export function layerState(g: OnnxGraphBuilder, state: string, k: number, D: number, L: number): string {
  if (state === '' || L === 1) return state;
  return g.node('Slice', [state, g.ints('starts', [k * D]), g.ints('ends', [(k + 1) * D]), g.ints('axes', [0])])[0]!;
}

/**
 * Adds the ONNX node of `layer` reading X [T, B, n_x]. Returns its outputs: Y [T, D, B, H],
 * Y_h [D, B, H] and, for LSTM, Y_c.
 */
export function addRecurrentLayer(
  g: OnnxGraphBuilder,
  x: string,
  layer: OnnxLayerSpec,
  initialH: string,
  initialC: string,
): { y: string; yh: string; yc: string } {
  const { kind, gruVariant, inputSize, hiddenSize: H } = layer;
  const D = layer.directions.length;
  const G = GATE_COUNT[kind];
  const W = new Float32Array(D * G * H * inputSize);
  const R = new Float32Array(D * G * H * H);
  const B = new Float32Array(D * 2 * G * H);
  layer.directions.forEach((params, d) => {
    const w = onnxWeightsOf(kind, gruVariant, inputSize, H, params);
    W.set(w.W, d * G * H * inputSize);
    R.set(w.R, d * G * H * H);
    B.set(w.Wb, d * 2 * G * H);
    B.set(w.Rb, d * 2 * G * H + G * H);
  });
  const op = ONNX_OP[kind];
  const inputs = [
    x,
    g.floats(`${op}_W`, [D, G * H, inputSize], W),
    g.floats(`${op}_R`, [D, G * H, H], R),
    g.floats(`${op}_B`, [D, 2 * G * H], B),
    '',
    initialH,
  ];
  if (kind === 'lstm') inputs.push(initialC);
  const attributes: Parameters<OnnxGraphBuilder['node']>[2] = {
    hidden_size: { i: H },
    direction: { s: D === 2 ? 'bidirectional' : 'forward' },
  };
  if (kind === 'gru') attributes.linear_before_reset = { i: gruVariant === 'reset-after' ? 1 : 0 };
  const outs = g.node(op, inputs, attributes, kind === 'lstm' ? 3 : 2);
  return { y: outs[0]!, yh: outs[1]!, yc: outs[2] ?? '' };
}
