// fromOnnx: an ONNX file as a live rxrnn model. Token input with a Gather (or OneHot) and a head
// of V outputs → CharModel; float input → RnnStack (+ Dense head). Bidirectional layers belong to
// @rxrnn/bidirectional/onnx. The model's buffers are fresh allocF32 ones; nothing aliases the bytes.
import { CharModel } from '../char-model.js';
import { Dense } from '../dense.js';
import { describe } from '../internal/checks.js';
import { RnnStack } from '../rnn-stack.js';
import { Vocabulary } from '../vocabulary.js';
import { VOCAB_METADATA_KEY } from './export.js';
import { type OnnxRecurrentGraph, readOnnxRecurrent } from './graph-reader.js';

/** Options of fromOnnx. */
export interface OnnxImportOptions {
  /**
   * The characters in id order (V of them) for a token model whose file has no `vocab` metadata;
   * when given it takes precedence over the metadata.
   */
  vocab?: readonly string[];
}

/** What the file described, besides the model. */
export interface OnnxModelInfo {
  /** Producer name and version as the file states them (e.g. "pytorch 1.13.0"). */
  producer: string;
  /** Default-domain opset. */
  opset: number;
  /** Graph inputs: the tokens or features, and the initial states (null: the graph starts from zeros). */
  inputs: {
    /** The tokens or features. */
    data: string;
    /** The initial hidden state, or null. */
    h0: string | null;
    /** The initial cell state (LSTM), or null. */
    c0: string | null;
  };
  /** The graph output that carries the per-step results. */
  output: string;
  /** metadata_props of the file. */
  metadata: Record<string, string>;
}

/** The result of fromOnnx: a char model with its vocabulary, or a stack with its optional head. */
export type OnnxImport =
  | {
      /** Token input and V outputs: a char model. */
      kind: 'char-model';
      /** The model, with fresh buffers. */
      model: CharModel;
      /** Its characters in id order. */
      vocab: string[];
      /** What the file says about itself. */
      info: OnnxModelInfo;
    }
  | {
      /** Float input: a stack with an optional head. */
      kind: 'stack';
      /** The recurrent layers. */
      stack: RnnStack;
      /** The dense layer after them, or null. */
      head: Dense | null;
      /** What the file says about itself. */
      info: OnnxModelInfo;
    };

/** The info part of an import result. */
export function onnxModelInfo(g: OnnxRecurrentGraph): OnnxModelInfo {
  return {
    producer: g.producer,
    opset: g.opset,
    inputs: { data: g.input.name, h0: g.states.h, c0: g.states.c },
    output: g.output,
    metadata: { ...g.metadata },
  };
}

/** Checks that every layer has the same kind, variant, H and direction count; returns them. */
export function uniformLayers(where: string, g: OnnxRecurrentGraph): OnnxRecurrentGraph['layers'][number] {
  const first = g.layers[0]!;
  for (const l of g.layers) {
    if (l.kind !== first.kind || l.gruVariant !== first.gruVariant)
      throw new RangeError(
        `${where}: node "${l.node}" is ${l.kind}, but node "${first.node}" is ${first.kind}: a stack has one cell kind`,
      );
    if (l.hiddenSize !== first.hiddenSize)
      throw new RangeError(
        `${where}: node "${l.node}" has H = ${l.hiddenSize}, but node "${first.node}" has H = ${first.hiddenSize}: a stack has one hidden size`,
      );
    if (l.directions !== first.directions)
      throw new RangeError(`${where}: node "${l.node}" and node "${first.node}" differ in direction`);
  }
  return first;
}

/** A head as a Dense layer with the file's weights. */
export function denseOf(head: NonNullable<OnnxRecurrentGraph['head']>): Dense {
  const d = new Dense({ inSize: head.inSize, outSize: head.outSize });
  d.weight.set(head.weight);
  d.bias.set(head.bias);
  return d;
}

function vocabFor(where: string, g: OnnxRecurrentGraph, V: number, given: readonly string[] | undefined): string[] {
  let chars: unknown = given;
  let source = 'options.vocab';
  if (chars === undefined) {
    const meta = g.metadata[VOCAB_METADATA_KEY];
    if (meta === undefined)
      throw new RangeError(
        `${where}: the file has no "${VOCAB_METADATA_KEY}" metadata; pass options.vocab, the ${V} characters in id order`,
      );
    source = `metadata "${VOCAB_METADATA_KEY}"`;
    try {
      chars = JSON.parse(meta);
    } catch {
      throw new RangeError(`${where}: ${source} must be a JSON array of characters, got ${describe(meta)}`);
    }
  }
  if (!Array.isArray(chars) || chars.length !== V)
    throw new RangeError(`${where}: ${source} must hold V = ${V} characters, got ${describe(chars)}`);
  try {
    return new Vocabulary(chars as string[]).chars;
  } catch (e) {
    throw new RangeError(`${where}: ${source}: ${(e as Error).message}`);
  }
}

/**
 * The rxrnn model an ONNX file computes (see readOnnxRecurrent for what is accepted and refused).
 * Token ids through a Gather (or OneHot), unidirectional layers and a head of V outputs give a
 * CharModel (`vocab` from options.vocab or the file's `vocab` metadata); float input gives an
 * RnnStack and the head, if any, as a Dense. Outputs match the file's within float32 rounding:
 * the model run from the same initial states (h0/c0 rows in the file's order, which is rxrnn's:
 * layer-major) gives the graph's per-step output.
 *
 * @param bytes the .onnx file's bytes
 * @param options vocab: the characters in id order when the file has no `vocab` metadata
 * @throws RangeError naming the node and attribute of anything that cannot run exactly, a
 *   bidirectional layer (use @rxrnn/bidirectional/onnx), or a missing/mismatched vocabulary
 * @example
 * ```ts
 * import { Dense, RnnStack } from '@rxrnn/cells';
 * import { fromOnnx, toOnnx } from '@rxrnn/cells/onnx';
 * const stack = new RnnStack({ kind: 'gru', inputSize: 3, hiddenSize: 4, seed: 1 });
 * const bytes = toOnnx(stack, { head: new Dense({ inSize: 4, outSize: 2, seed: 1 }) });
 * const r = fromOnnx(bytes); // a file from PyTorch's exporter reads the same way
 * if (r.kind === 'stack') console.log(r.stack.paramCount(), r.head?.outSize); // 100 2
 * ```
 */
export function fromOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): OnnxImport {
  const where = 'fromOnnx';
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  const g = readOnnxRecurrent(bytes, where);
  const first = uniformLayers(where, g);
  if (first.directions === 2)
    throw new RangeError(
      `${where}: node "${first.node}" is bidirectional; read the file with fromOnnx of @rxrnn/bidirectional/onnx`,
    );
  return buildUnidirectional(where, g, options);
}

/** The CharModel or RnnStack of a graph whose layers are all forward (checked by the caller). */
export function buildUnidirectional(where: string, g: OnnxRecurrentGraph, options: OnnxImportOptions): OnnxImport {
  const first = g.layers[0]!;
  const L = g.layers.length;
  const H = first.hiddenSize;
  const info = onnxModelInfo(g);
  if (g.input.kind === 'features') {
    const stack = new RnnStack({
      kind: first.kind,
      gruVariant: first.gruVariant,
      inputSize: g.input.size,
      hiddenSize: H,
      layers: L,
    });
    let off = 0;
    for (const l of g.layers) {
      stack.params.set(l.params[0]!, off);
      off += l.params[0]!.length;
    }
    return { kind: 'stack', stack, head: g.head ? denseOf(g.head) : null, info };
  }
  const V = g.input.vocabSize;
  if (!g.head || g.head.outSize !== V)
    throw new RangeError(
      `${where}: a token model needs a linear head of V = ${V} outputs (logits over the vocabulary), got ${g.head ? `${g.head.outSize} outputs` : 'none'}`,
    );
  const vocab = vocabFor(where, g, V, options.vocab);
  const model = new CharModel({
    cell: first.kind,
    gruVariant: first.gruVariant,
    vocab,
    input: g.input.kind === 'embedding' ? 'embedding' : 'onehot',
    embeddingDim: g.input.kind === 'embedding' ? g.input.dim : undefined,
    hidden: H,
    layers: L,
  });
  if (model.embedding && g.input.kind === 'embedding') model.embedding.weight.set(g.input.weight);
  let off = 0;
  for (const l of g.layers) {
    model.rnn.params.set(l.params[0]!, off);
    off += l.params[0]!.length;
  }
  model.linear.weight.set(g.head.weight);
  model.linear.bias.set(g.head.bias);
  return { kind: 'char-model', model, vocab, info };
}
