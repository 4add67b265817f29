// toOnnx: a CharModel or an RnnStack (with an optional Dense head) as an ONNX model (opset 14):
// Gather (or OneHot) for the tokens, one LSTM/GRU/RNN node per layer, MatMul + Add for the head.
// Time-major and dynamic in T and B: tokens [T, B] (or input [T, B, n_x]), h0 (c0) [L, B, H].
import { CharModel } from '../char-model.js';
import { Dense } from '../dense.js';
import { describe } from '../internal/checks.js';
import { RnnStack } from '../rnn-stack.js';
import type { CellKind, GruVariant } from '../types.js';
import { OnnxGraphBuilder } from './graph-builder.js';
import { DataType } from './proto.js';
import { addRecurrentLayer, layerState, type OnnxLayerSpec } from './recurrent-layer.js';

/** Options of toOnnx. */
export interface OnnxExportOptions {
  /** RnnStack only: a dense layer applied to every step's output (its inSize must be H). */
  head?: Dense;
  /** Extra metadata_props entries (strings); a CharModel always writes `vocab` and `rxrnn.config`. */
  metadata?: Record<string, string>;
}

/** Metadata key of the vocabulary: a JSON array of the characters in id order. */
export const VOCAB_METADATA_KEY = 'vocab';
/** Metadata key of the rxrnn config the file was written from (JSON). */
export const CONFIG_METADATA_KEY = 'rxrnn.config';

/** The layers of an RnnStack as exporter specs (views of its params, no copy). */
export function stackLayers(stack: RnnStack): OnnxLayerSpec[] {
  const per = stack.cells.map((c) => c.params);
  return per.map((params, k) => ({
    kind: stack.kind,
    gruVariant: stack.gruVariant,
    inputSize: k === 0 ? stack.inputSize : stack.hiddenSize,
    hiddenSize: stack.hiddenSize,
    directions: [params],
  }));
}

/**
 * The unidirectional layers from X [T, B, n_x]: per layer k an ONNX node reading rows k of h0/c0,
 * Y squeezed to [T, B, H]. Returns the top layer's output and every layer's Y_h (and Y_c).
 */
export function addForwardLayers(
  g: OnnxGraphBuilder,
  x: string,
  layers: readonly OnnxLayerSpec[],
  h0: string,
  c0: string,
): { top: string; yh: string[]; yc: string[] } {
  const L = layers.length;
  const yh: string[] = [];
  const yc: string[] = [];
  let input = x;
  layers.forEach((layer, k) => {
    const out = addRecurrentLayer(g, input, layer, layerState(g, h0, k, 1, L), layerState(g, c0, k, 1, L));
    input = g.node('Squeeze', [out.y, g.ints('axes', [1])])[0]!;
    yh.push(out.yh);
    yc.push(out.yc);
  });
  return { top: input, yh, yc };
}

/** The graph outputs hn (and cn for LSTM) [rows, B, H] from the layers' final states. */
export function addStateOutputs(
  g: OnnxGraphBuilder,
  kind: CellKind,
  rows: number,
  H: number,
  yh: readonly string[],
  yc: readonly string[],
): void {
  concatStates(g, 'hn', yh, [rows, 'B', H]);
  if (kind === 'lstm') concatStates(g, 'cn', yc, [rows, 'B', H]);
}

/** Graph output `name`: the per-layer final states concatenated on axis 0. */
export function concatStates(
  g: OnnxGraphBuilder,
  name: string,
  parts: readonly string[],
  dims: (number | string)[],
): void {
  if (parts.length === 1) g.alias(parts[0]!, name);
  else g.node('Concat', parts, { axis: { i: 0 } }, [name]);
  g.output(name, dims);
}

/** logits = x · Wᵀ + b on the last axis: MatMul with Wᵀ [n_a, n_y] (an initializer), then Add. */
export function addDenseHead(g: OnnxGraphBuilder, x: string, head: Dense, outName: string): string {
  const Wt = new Float32Array(head.inSize * head.outSize);
  for (let o = 0; o < head.outSize; o++)
    for (let i = 0; i < head.inSize; i++) Wt[i * head.outSize + o] = head.weight[o * head.inSize + i]!;
  const [mm] = g.node('MatMul', [x, g.floats('linear_weight_T', [head.inSize, head.outSize], Wt)]);
  return g.node('Add', [mm!, g.floats('linear_bias', [head.outSize], head.bias)], {}, [outName])[0]!;
}

/** The state inputs h0 (and c0 for LSTM) [rows, B, H]. */
export function addStateInputs(
  g: OnnxGraphBuilder,
  kind: CellKind,
  rows: number,
  H: number,
): { h0: string; c0: string } {
  const h0 = g.input('h0', [rows, 'B', H]);
  const c0 = kind === 'lstm' ? g.input('c0', [rows, 'B', H]) : '';
  return { h0, c0 };
}

function checkStringMap(where: string, metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  if (metadata === null || typeof metadata !== 'object')
    throw new TypeError(`${where}: options.metadata must be an object of strings, got ${describe(metadata)}`);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string')
      throw new TypeError(`${where}: options.metadata["${k}"] must be a string, got ${describe(v)}`);
  }
  return metadata as Record<string, string>;
}

/** A config for the file's metadata: gruVariant only for a GRU. */
function configJson(kind: CellKind, c: { gruVariant: GruVariant } & Record<string, unknown>): string {
  return JSON.stringify({ ...c, gruVariant: kind === 'gru' ? c.gruVariant : undefined });
}

/**
 * The model as ONNX bytes (opset 14, IR 7, weights as initializers, T and B dynamic).
 *
 * A CharModel: inputs `tokens` (int64 [T, B]), `h0` ([L, B, H]) and, for LSTM, `c0`; outputs
 * `logits` ([T, B, V]), `hn` and `cn`. The embedding is a Gather (one-hot input: OneHot), the
 * head MatMul + Add; the vocabulary travels as metadata `vocab` (JSON array, id order).
 * An RnnStack: input `input` (float [T, B, n_x]) and `h0`/`c0`; outputs `output` ([T, B, H]), or
 * `logits` ([T, B, n_y]) when `options.head` is given, and `hn`/`cn`.
 * LSTM gates are written in ONNX order iofc, GRU in zrh with linear_before_reset = 1 for the
 * reset-after GRU and 0 for reset-before; onnxruntime computes the same function within float32
 * rounding. One file serves a streaming step (T = 1, states carried) and a whole window.
 *
 * @throws TypeError for a model of another class, a head that is not a Dense, or non-string metadata;
 *   RangeError when the head's inSize is not H.
 * @example
 * ```ts
 * import { CharModel } from '@rxrnn/cells';
 * import { fromOnnx, toOnnx } from '@rxrnn/cells/onnx';
 * const model = new CharModel({ cell: 'lstm', vocab: [...'ab '], hidden: 8, seed: 1 });
 * const bytes = toOnnx(model); // for onnxruntime: InferenceSession.create(bytes)
 * console.log(fromOnnx(bytes).kind); // 'char-model': the vocabulary travels in the metadata
 * ```
 */
export function toOnnx(model: CharModel | RnnStack, options: OnnxExportOptions = {}): Uint8Array {
  const where = 'toOnnx';
  const metadata = checkStringMap(where, options?.metadata);
  const g = new OnnxGraphBuilder();
  if (model instanceof CharModel) {
    if (options.head !== undefined)
      throw new TypeError(`${where}: options.head is for an RnnStack; a CharModel has its own head`);
    const c = model.config;
    const V = model.vocabSize;
    const tokens = g.input('tokens', ['T', 'B'], DataType.INT64);
    const { h0, c0 } = addStateInputs(g, c.cell, c.layers, c.hidden);
    let x: string;
    if (model.embedding) {
      x = g.node('Gather', [g.floats('embedding_weight', [V, c.embeddingDim], model.embedding.weight), tokens], {
        axis: { i: 0 },
      })[0]!;
    } else {
      x = g.node('OneHot', [tokens, g.ints('depth', [V]), g.floats('onehot_values', [2], [0, 1])], {
        axis: { i: -1 },
      })[0]!;
    }
    const { top, yh, yc } = addForwardLayers(g, x, stackLayers(model.rnn), h0, c0);
    addDenseHead(g, top, model.linear, 'logits');
    g.output('logits', ['T', 'B', V]);
    addStateOutputs(g, c.cell, c.layers, c.hidden, yh, yc);
    const { seed: _seed, vocab: _vocab, ...rest } = c;
    return g.encode('rxrnn_char_model', {
      ...metadata,
      [VOCAB_METADATA_KEY]: JSON.stringify(c.vocab),
      [CONFIG_METADATA_KEY]: configJson(c.cell, rest),
    });
  }
  if (model instanceof RnnStack) {
    const head = options.head;
    if (head !== undefined && !(head instanceof Dense))
      throw new TypeError(`${where}: options.head must be a Dense, got ${describe(head)}`);
    if (head && head.inSize !== model.hiddenSize)
      throw new RangeError(`${where}: options.head.inSize must be H = ${model.hiddenSize}, got ${head.inSize}`);
    const x = g.input('input', ['T', 'B', model.inputSize]);
    const { h0, c0 } = addStateInputs(g, model.kind, model.layers, model.hiddenSize);
    const { top, yh, yc } = addForwardLayers(g, x, stackLayers(model), h0, c0);
    if (head) {
      addDenseHead(g, top, head, 'logits');
      g.output('logits', ['T', 'B', head.outSize]);
    } else {
      g.alias(top, 'output');
      g.output('output', ['T', 'B', model.hiddenSize]);
    }
    addStateOutputs(g, model.kind, model.layers, model.hiddenSize, yh, yc);
    return g.encode('rxrnn_stack', {
      ...metadata,
      [CONFIG_METADATA_KEY]: configJson(model.kind, {
        kind: model.kind,
        gruVariant: model.gruVariant,
        inputSize: model.inputSize,
        hiddenSize: model.hiddenSize,
        layers: model.layers,
        head: head ? head.outSize : undefined,
      }),
    });
  }
  throw new TypeError(`${where}: model must be a CharModel or an RnnStack, got ${describe(model)}`);
}
