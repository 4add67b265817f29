// @rxrnn/bidirectional/onnx: a BidirectionalStack (+ Dense head) to ONNX as bidirectional
// LSTM/GRU/RNN nodes, and ONNX graphs with bidirectional layers back to a BidirectionalStack.
// The builder, the weight conversions and the graph reader are @rxrnn/cells/onnx/internal's.

/**
 * A BidirectionalStack to ONNX as bidirectional LSTM/GRU/RNN nodes, and ONNX graphs with
 * bidirectional layers back to a BidirectionalStack.
 *
 * @module @rxrnn/bidirectional/onnx
 */
import { Dense } from '@rxrnn/cells';
import { CONFIG_METADATA_KEY, type OnnxImport, type OnnxImportOptions, type OnnxModelInfo } from '@rxrnn/cells/onnx';
import {
  addDenseHead,
  addRecurrentLayer,
  addStateInputs,
  addStateOutputs,
  buildUnidirectional,
  denseOf,
  layerState,
  OnnxGraphBuilder,
  onnxModelInfo,
  readOnnxRecurrent,
  uniformLayers,
} from '@rxrnn/cells/onnx/internal';
import { describe } from '@rxrnn/kernels/internal';
import { BidirectionalStack } from '../bidirectional-stack.js';

/** Options of toOnnx. */
export interface BidirectionalOnnxExportOptions {
  /** A dense layer applied to every step's merged output (its inSize must be the stack's outputSize). */
  head?: Dense;
  /** Extra metadata_props entries (strings). */
  metadata?: Record<string, string>;
}

/**
 * A BidirectionalStack as ONNX bytes (opset 14, weights as initializers, T and B dynamic): input
 * `input` (float [T, B, n_x]), `h0` ([2L, B, H], row layer·2 + direction, PyTorch's order) and for
 * LSTM `c0`; outputs `output` ([T, B, outputSize]) or `logits` with `options.head`, `hn`, `cn`.
 * One bidirectional node per layer; between layers Transpose + Reshape give [T, B, 2H]
 * ([forward | reverse]); the top layer's merge is that concat, or ReduceSum / ReduceMean /
 * ReduceProd over the direction axis for 'sum' / 'ave' / 'mul'.
 *
 * @throws TypeError for a stack or head of the wrong class; RangeError when head.inSize is not
 *   the stack's outputSize
 * @example
 * ```ts
 * import { BidirectionalStack } from '@rxrnn/bidirectional';
 * import { toOnnx } from '@rxrnn/bidirectional/onnx';
 * const bytes = toOnnx(new BidirectionalStack({ kind: 'gru', inputSize: 8, hiddenSize: 16, merge: 'sum' }));
 * console.log(bytes.length > 0); // true
 * ```
 */
export function toOnnx(stack: BidirectionalStack, options: BidirectionalOnnxExportOptions = {}): Uint8Array {
  const where = 'toOnnx';
  if (!(stack instanceof BidirectionalStack))
    throw new TypeError(`${where}: stack must be a BidirectionalStack, got ${describe(stack)}`);
  const head = options?.head;
  if (head !== undefined && !(head instanceof Dense))
    throw new TypeError(`${where}: options.head must be a Dense, got ${describe(head)}`);
  if (head && head.inSize !== stack.outputSize)
    throw new RangeError(
      `${where}: options.head.inSize must be the stack's outputSize ${stack.outputSize}, got ${head.inSize}`,
    );
  const metadata = options?.metadata ?? {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string')
      throw new TypeError(`${where}: options.metadata["${k}"] must be a string, got ${describe(v)}`);
  }
  const { kind, gruVariant, hiddenSize: H, layers: L } = stack;
  const g = new OnnxGraphBuilder();
  let x = g.input('input', ['T', 'B', stack.inputSize]);
  const { h0, c0 } = addStateInputs(g, kind, 2 * L, H);
  const yh: string[] = [];
  const yc: string[] = [];
  stack.cells.forEach(({ forward, reverse }, k) => {
    const out = addRecurrentLayer(
      g,
      x,
      {
        kind,
        gruVariant,
        inputSize: k === 0 ? stack.inputSize : 2 * H,
        hiddenSize: H,
        directions: [forward.params, reverse.params],
      },
      layerState(g, h0, k, 2, L),
      layerState(g, c0, k, 2, L),
    );
    yh.push(out.yh);
    yc.push(out.yc);
    const merge = k < L - 1 ? 'concat' : stack.merge;
    if (merge === 'concat') {
      // Y [T, 2, B, H] → [T, B, 2, H] → [T, B, 2H]: each row [forward | reverse].
      const [tr] = g.node('Transpose', [out.y], { perm: { ints: [0, 2, 1, 3] } });
      x = g.node('Reshape', [tr!, g.ints('shape', [0, 0, 2 * H])])[0]!;
    } else if (merge === 'sum') {
      x = g.node('ReduceSum', [out.y, g.ints('axes', [1])], { keepdims: { i: 0 } })[0]!;
    } else {
      x = g.node(merge === 'ave' ? 'ReduceMean' : 'ReduceProd', [out.y], {
        axes: { ints: [1] },
        keepdims: { i: 0 },
      })[0]!;
    }
  });
  if (head) {
    addDenseHead(g, x, head, 'logits');
    g.output('logits', ['T', 'B', head.outSize]);
  } else {
    g.alias(x, 'output');
    g.output('output', ['T', 'B', stack.outputSize]);
  }
  addStateOutputs(g, kind, 2 * L, H, yh, yc);
  return g.encode('rxrnn_bidirectional_stack', {
    ...metadata,
    [CONFIG_METADATA_KEY]: JSON.stringify({
      kind,
      gruVariant: kind === 'gru' ? gruVariant : undefined,
      inputSize: stack.inputSize,
      hiddenSize: H,
      layers: L,
      merge: stack.merge,
      head: head ? head.outSize : undefined,
    }),
  });
}

/** fromOnnx's result: the cells' results, or a bidirectional stack with its optional head. */
export type BidirectionalOnnxImport =
  | OnnxImport
  | {
      /** Bidirectional layers. */
      kind: 'bidirectional';
      /** The layers, with the file's merge mode. */
      stack: BidirectionalStack;
      /** The dense layer after them, or null. */
      head: Dense | null;
      /** What the file says about itself. */
      info: OnnxModelInfo;
    };

/**
 * The rxrnn model an ONNX file computes. Bidirectional layers (every layer bidirectional, each
 * reading the previous one's [forward | reverse] concat, as PyTorch writes them) become a
 * BidirectionalStack whose merge is the file's ('concat' as PyTorch writes it, or 'sum' / 'ave' /
 * 'mul' for a ReduceSum / ReduceMean / ReduceProd over the direction axis), its input float features (or one-hot ids for a OneHot
 * input: n_x = V); the head, if any, a Dense. Files with forward-only layers give what
 * fromOnnx of @rxrnn/cells/onnx gives. Initial states h0/c0 are rows layer·2 + direction.
 *
 * @throws RangeError naming the node and attribute of anything that cannot run exactly, a mix of
 *   bidirectional and forward layers, or an embedding (Gather) before bidirectional layers
 * @example
 * ```ts
 * import { BidirectionalStack } from '@rxrnn/bidirectional';
 * import { fromOnnx, toOnnx } from '@rxrnn/bidirectional/onnx';
 * const bytes = toOnnx(new BidirectionalStack({ kind: 'lstm', inputSize: 3, hiddenSize: 4, seed: 1 }));
 * const r = fromOnnx(bytes);
 * if (r.kind === 'bidirectional') {
 *   const T = 5, B = 1;
 *   const out = r.stack.forward(new Float32Array(T * B * 3), T, B, r.stack.createState(B));
 *   console.log(out.length); // T·B·2H = 40
 * }
 * ```
 */
export function fromOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): BidirectionalOnnxImport {
  const where = 'fromOnnx';
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  const g = readOnnxRecurrent(bytes, where);
  const first = uniformLayers(where, g);
  if (first.directions === 1) return buildUnidirectional(where, g, options);
  if (g.input.kind === 'embedding')
    throw new RangeError(
      `${where}: the model embeds tokens (Gather "${g.input.name}") before bidirectional layers; a BidirectionalStack reads features or one-hot ids`,
    );
  const inputSize = g.input.kind === 'features' ? g.input.size : g.input.vocabSize;
  const stack = new BidirectionalStack({
    kind: first.kind,
    gruVariant: first.gruVariant,
    inputSize,
    hiddenSize: first.hiddenSize,
    layers: g.layers.length,
    merge: g.merge,
  });
  let off = 0;
  for (const l of g.layers) {
    for (const p of l.params) {
      stack.params.set(p, off);
      off += p.length;
    }
  }
  return { kind: 'bidirectional', stack, head: g.head ? denseOf(g.head) : null, info: onnxModelInfo(g) };
}
