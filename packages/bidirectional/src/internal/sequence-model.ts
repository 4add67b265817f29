// The shared body of the trainable models: token ids [T·B] → one-hot or embedding → a
// bidirectional (D = 2) or unidirectional (D = 1) stack → rows [T·B × D·H]. One flat params
// buffer [embedding | rnn | dense] and a grads twin, as the trainer's optimizers expect.

import { type CellKind, Dense, Embedding, type GruVariant, type ParamView, RnnStack } from '@rxrnn/cells';
import { allocF32, Rng } from '@rxrnn/kernels';
import { checkPositiveInt } from '@rxrnn/kernels/internal';
import { BidirectionalStack } from '../bidirectional-stack.js';
import type { MergeMode } from '../merge.js';
import { mergedSize } from '../merge.js';

/** What {@link SequenceTagger} and {@link SequenceClassifier} share: input, recurrent core, classes. */
export interface SequenceModelConfig {
  /** 'rnn' (tanh), 'gru' or 'lstm'. */
  cell: CellKind;
  /** GRU only; default 'reset-after'. 'reset-before' is the course notes' GRU. */
  gruVariant?: GruVariant;
  /** V: token ids are integers in [0, V). */
  vocabSize: number;
  /** 'onehot' (default; W_ih gathers a column per id) or 'embedding' (a learned [V × E] table). */
  input?: 'onehot' | 'embedding';
  /** E when input is 'embedding'; default 16. */
  embeddingDim?: number;
  /** H per direction. */
  hidden: number;
  /** L, default 1. */
  layers?: number;
  /** 2 (default): bidirectional; 1: a unidirectional baseline with the same heads. */
  directions?: 1 | 2;
  /** n_y: number of classes. */
  classes: number;
  /** Seed of the one Rng that initializes everything in layout order; default 0. */
  seed?: number;
}

const positiveInt = checkPositiveInt;

/**
 * The common core of the taggers and classifiers: token ids → one-hot or embedding → a
 * bidirectional (or unidirectional) stack → a dense head, on one flat parameter buffer.
 */
export abstract class SequenceModel {
  /** Every parameter in layout order (embedding, recurrent stack, dense head). */
  readonly params: Float32Array;
  /** Gradients, same layout; `lossAndGrad` accumulates into it. */
  readonly grads: Float32Array;
  /** The embedding table (input 'embedding'), or null for one-hot input. */
  readonly embedding: Embedding | null;
  /** The recurrent core: a BidirectionalStack (2 directions) or an RnnStack (1). */
  readonly rnn: BidirectionalStack | RnnStack;
  /** The output layer: logits over the classes. */
  readonly dense: Dense;
  /** 2 for bidirectional, 1 for the unidirectional baseline. */
  readonly directions: 1 | 2;
  /** Width of the rnn's output rows (D·H for concat, H for merged bidirectional outputs). */
  readonly rnnOutSize: number;
  /** V: token ids are integers in [0, V). */
  readonly vocabSize: number;
  private readonly layout: ParamView[] = [];
  private state = new Float32Array(0);
  private emb: Float32Array = new Float32Array(0);
  private dEmb: Float32Array = new Float32Array(0);
  private lastIds: Int32Array | null = null;

  /**
   * @param where - the subclass name, for messages.
   * @param config - the shared config.
   * @param merge - how the two directions combine per step.
   * @param headIn - the dense head's input width for a given rnn output width.
   */
  constructor(where: string, config: SequenceModelConfig, merge: MergeMode, headIn: (rnnOut: number) => number) {
    if (config === null || typeof config !== 'object')
      throw new TypeError(`${where}: config must be an object, got ${String(config)}`);
    const V = positiveInt(where, 'vocabSize', config.vocabSize);
    const H = positiveInt(where, 'hidden', config.hidden);
    const classes = positiveInt(where, 'classes', config.classes);
    const input = config.input ?? 'onehot';
    if (input !== 'onehot' && input !== 'embedding')
      throw new RangeError(`${where}: input ${JSON.stringify(input)}, expected 'onehot' or 'embedding'`);
    const E = input === 'embedding' ? positiveInt(where, 'embeddingDim', config.embeddingDim ?? 16) : 0;
    const D = config.directions ?? 2;
    if (D !== 1 && D !== 2) throw new RangeError(`${where}: directions ${String(D)}, expected 1 or 2`);
    this.directions = D;
    this.vocabSize = V;
    const rnnConfig = {
      kind: config.cell,
      inputSize: E > 0 ? E : V,
      hiddenSize: H,
      layers: config.layers ?? 1,
      gruVariant: config.gruVariant,
      merge,
    };
    const rnnSize = D === 2 ? BidirectionalStack.layoutOf(rnnConfig).size : RnnStack.layoutOf(rnnConfig).size;
    this.rnnOutSize = D === 2 ? mergedSize(merge, H) : H;
    const nIn = headIn(this.rnnOutSize);
    const sizes = [V * E, rnnSize, nIn * classes + classes];
    const total = sizes[0]! + sizes[1]! + sizes[2]!;
    this.params = allocF32(total);
    this.grads = allocF32(total);
    const part = (i: number) => {
      const off = sizes.slice(0, i).reduce((a, b) => a + b, 0);
      return {
        params: this.params.subarray(off, off + sizes[i]!),
        grads: this.grads.subarray(off, off + sizes[i]!),
        off,
      };
    };
    const rng = new Rng(config.seed ?? 0);
    this.embedding = E > 0 ? new Embedding({ vocabSize: V, dim: E }, part(0)) : null;
    if (this.embedding) {
      this.embedding.initialize(rng);
      this.layout.push({ name: 'embedding.weight', offset: 0, shape: [V, E] });
    }
    const r = part(1);
    this.rnn = D === 2 ? new BidirectionalStack(rnnConfig, r) : new RnnStack(rnnConfig, r);
    this.rnn.initialize(rng);
    for (const v of this.rnn.views())
      this.layout.push({ name: `rnn.${v.name}`, offset: r.off + v.offset, shape: v.shape });
    const d = part(2);
    this.dense = new Dense({ inSize: nIn, outSize: classes }, d);
    this.dense.initialize(rng);
    this.layout.push(
      { name: 'linear.weight', offset: d.off, shape: [classes, nIn] },
      { name: 'linear.bias', offset: d.off + classes * nIn, shape: [classes] },
    );
  }

  /** The number of parameters. */
  paramCount(): number {
    return this.params.length;
  }

  /** Named tensors of the flat buffer: embedding.weight, rnn.*, linear.weight, linear.bias. */
  views(): ParamView[] {
    return this.layout.map((v) => ({ ...v, shape: [...v.shape] }));
  }

  /** Sets every gradient to 0. */
  zeroGrads(): void {
    this.grads.fill(0);
  }

  /** rnn output rows [T·B × rnnOutSize] for ids [T·B], from zero states (windows are independent). */
  protected encode(where: string, ids: Int32Array, T: number, B: number): Float32Array {
    if (!(ids instanceof Int32Array) || ids.length !== T * B) {
      throw new RangeError(
        `${where}: inputs must be an Int32Array of T*B = ${T * B} ids, got ${ids?.constructor?.name} of length ${String(ids?.length)}`,
      );
    }
    const n = B * this.rnn.stateSize;
    if (this.state.length !== n) this.state = new Float32Array(n);
    else this.state.fill(0);
    this.lastIds = ids;
    if (this.embedding === null) return this.rnn.forward(ids, T, B, this.state);
    const E = this.embedding.dim;
    if (this.emb.length !== T * B * E) {
      this.emb = allocF32(T * B * E);
      this.dEmb = allocF32(T * B * E);
    }
    this.embedding.lookup(this.emb, ids, T * B);
    return this.rnn.forward(this.emb, T, B, this.state);
  }

  /** Backward from dOut [T·B × rnnOutSize] through the rnn (and the embedding). */
  protected encodeBackward(dOut: Float32Array): void {
    if (this.embedding === null) {
      this.rnn.backward(dOut, null, null, null);
      return;
    }
    this.rnn.backward(dOut, null, this.dEmb, null);
    this.embedding.backward(this.dEmb, this.lastIds!, this.lastIds!.length);
  }
}

/** Index of the largest of n values starting at o (ties: the lower index). */
export function argmax(x: Float32Array, o: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (x[o + j]! > x[o + best]!) best = j;
  return best;
}
