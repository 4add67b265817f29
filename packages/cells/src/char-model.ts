// CharModel: tokens → embedding (or one-hot) → stacked cells → dense logits, softmax cross-entropy,
// BPTT. Params [embedding.weight | rnn.* | linear.*] and grads: one allocF32 buffer each; windows
// [T, B] are time-major (token (t, b) at t·B + b); scratch is allocated per (T, B) and reused.
import { allocF32, freeF32, Rng, scale, softmaxCrossEntropy } from '@rxrnn/kernels';
import { Dense } from './dense.js';
import { Embedding } from './embedding.js';
import { checkF32, checkIds, checkPositiveInt, describe } from './internal/checks.js';
import {
  checkDraw,
  checkDropoutRate,
  fillDropoutMask,
  MASK_STREAM,
  maskInPlace,
  maskInto,
} from './internal/dropout.js';
import { sizeOf } from './internal/layout.js';
import { readTensor } from './internal/torch-tensor.js';
import { RnnStack, type StackDropoutMasks } from './rnn-stack.js';
import type { CellKind, DropoutDraw, GruVariant, ParamView, TorchStateDict, TorchTensorF32 } from './types.js';
import { Vocabulary } from './vocabulary.js';

/** What a CharModel is: cell kind, vocabulary, sizes and seed. The config fully describes the model. */
export interface CharModelConfig {
  /** Cell kind of every layer. */
  cell: CellKind;
  /** GRU only; default 'reset-after' (PyTorch-exact, see GruVariant). */
  gruVariant?: GruVariant;
  /** The characters in id order; V = vocab.length. */
  vocab: string[];
  /** 'embedding' (default): a learned [V × E] table; 'onehot': layer 0 reads W_ih's column of the id. */
  input?: 'embedding' | 'onehot';
  /** E, default 32 (ignored for one-hot input). */
  embeddingDim?: number;
  /** H of every layer. */
  hidden: number;
  /** L, default 1. */
  layers?: number;
  /** Seed of the initializer's Rng (and of lossAndGrad's masks when no draw is given); default 0. */
  seed?: number;
  /**
   * Dropout between stacked layers, PyTorch's nn.LSTM(dropout=p): inverted dropout on the outputs
   * of every layer but the last, a fresh mask per element and step. In [0, 1), default 0. Like all
   * the dropouts here it is applied by lossAndGrad only (training); evaluate, logits, step and
   * every operator built on them compute the model without it.
   */
  dropout?: number;
  /** Inverted dropout on the embedding output (needs input 'embedding'); in [0, 1), default 0. */
  embeddingDropout?: number;
  /** Inverted dropout on the top layer's output, before the dense head; in [0, 1), default 0. */
  outputDropout?: number;
  /**
   * Variational dropout of every layer's input, Keras's `dropout`: x_t ⊙ m with one mask per
   * window and stream (batch row), the same at every step (Gal & Ghahramani 2016); a one-hot
   * input drops token ids. In [0, 1), default 0.
   */
  inputDropout?: number;
  /**
   * Variational dropout of h_{t−1} in every layer's recurrent products, Keras's
   * `recurrent_dropout`: W_hh·(h_{t−1} ⊙ m), one mask per window and stream; the carried state is
   * not masked. In [0, 1), default 0.
   */
  recurrentDropout?: number;
}

/** The dropout masks of a training window (CharModel.lastDropoutMasks); null where none. */
export interface CharModelDropoutMasks extends StackDropoutMasks {
  /** On the embedding output [T·B × E]. */
  embedding: Float32Array | null;
  /** On the top layer's output, before the head [T·B × H]. */
  output: Float32Array | null;
}

/** The config with every default filled in: what a checkpoint stores. */
export type ResolvedCharModelConfig = Required<CharModelConfig>;

/** A window's loss: mean nats per token = lossSum / count. */
export interface LossResult {
  /** Sum of the per-position cross-entropies, nats (accumulated in float64). */
  lossSum: number;
  /** Number of positions, T·B. */
  count: number;
}

/** Options of CharModel.fromTorchStateDict. */
export interface CharModelTorchOptions {
  /** Name of the recurrent module in the state_dict: default 'rnn' (the fixture's char model uses 'lstm'). */
  prefix?: string;
}

/**
 * Upper bounds on a char model described by something read from outside (a checkpoint, a weights
 * document, a JSON config): generous for a character model, finite, so that a hostile or damaged
 * file is refused before it can ask for gigabytes. {@link checkCharModelConfig} enforces them;
 * `new CharModel(config)` does not (a program may build what it likes).
 */
export const CHAR_MODEL_LIMITS: Readonly<{
  /** V, characters (code points) in the vocabulary: 65,536. */
  vocab: number;
  /** E: 16,384. */
  embeddingDim: number;
  /** H: 16,384. */
  hidden: number;
  /** L: 64. */
  layers: number;
  /** Total parameters: 2^28 = 268,435,456 (params and grads then take 2 GiB). */
  params: number;
}> = Object.freeze({ vocab: 65_536, embeddingDim: 16_384, hidden: 16_384, layers: 64, params: 2 ** 28 });

const CONFIG_KEYS = [
  'cell',
  'gruVariant',
  'vocab',
  'input',
  'embeddingDim',
  'hidden',
  'layers',
  'seed',
  'dropout',
  'embeddingDropout',
  'outputDropout',
  'inputDropout',
  'recurrentDropout',
] as const;

/**
 * Validates a char model config that came from outside (decoded from a file, a message, JSON)
 * before anything is allocated from it: every field of the right type and within
 * {@link CHAR_MODEL_LIMITS}, no unknown field, the vocabulary distinct single code points, and the
 * parameter count it implies within the limit. O(V), allocates only the resolved copy.
 * @param where names the reader in messages (`checkpoint`, `weights`).
 * @param name the config's path in what was read (`model`, `config`).
 * @returns the resolved config (defaults filled in, the fields in their canonical order).
 * @throws TypeError for a value of the wrong kind, RangeError for a value out of range, naming the
 *   field: `checkpoint: model.layers must be an integer in [1, 64], got 100000`.
 */
export function checkCharModelConfig(where: string, name: string, value: unknown): ResolvedCharModelConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw new TypeError(`${where}: ${name} must be a model config object, got ${describe(value)}`);
  }
  const c = value as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new RangeError(`${where}: ${name}.${key} is not a model setting, expected only ${CONFIG_KEYS.join(', ')}`);
    }
  }
  const oneOf = (key: string, values: readonly string[], optional: boolean) => {
    const v = c[key];
    if (optional && v === undefined) return;
    if (!values.includes(v as string)) {
      throw new RangeError(
        `${where}: ${name}.${key} must be ${values.map((x) => `'${x}'`).join(' or ')}, got ${describe(v)}`,
      );
    }
  };
  const int = (key: string, min: number, max: number, optional: boolean) => {
    const v = c[key];
    if (optional && v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`${where}: ${name}.${key} must be an integer in [${min}, ${max}], got ${describe(v)}`);
    }
  };
  const L = CHAR_MODEL_LIMITS;
  oneOf('cell', ['rnn', 'gru', 'lstm'], false);
  oneOf('gruVariant', ['reset-after', 'reset-before'], true);
  oneOf('input', ['embedding', 'onehot'], true);
  const vocab = c.vocab;
  if (!Array.isArray(vocab) || vocab.length === 0 || vocab.length > L.vocab) {
    throw new RangeError(
      `${where}: ${name}.vocab must be an array of 1 to ${L.vocab} characters, got ${describe(vocab)}`,
    );
  }
  const seen = new Map<string, number>();
  for (let i = 0; i < vocab.length; i++) {
    const ch: unknown = vocab[i];
    // One code point: one UTF-16 unit, or two (a surrogate pair) for a code point above U+FFFF.
    const units = typeof ch === 'string' && ch.length > 0 ? (ch.codePointAt(0)! > 0xffff ? 2 : 1) : 0;
    if (typeof ch !== 'string' || units === 0 || ch.length !== units)
      throw new RangeError(`${where}: ${name}.vocab[${i}] must be one character (code point), got ${describe(ch)}`);
    const first = seen.get(ch);
    if (first !== undefined)
      throw new RangeError(`${where}: ${name}.vocab[${i}] ${JSON.stringify(ch)} repeats ${name}.vocab[${first}]`);
    seen.set(ch, i);
  }
  int('embeddingDim', c.input === 'onehot' ? 0 : 1, L.embeddingDim, true);
  int('hidden', 1, L.hidden, false);
  int('layers', 1, L.layers, true);
  const seed = c.seed;
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) {
    throw new RangeError(`${where}: ${name}.seed must be an integer, got ${describe(seed)}`);
  }
  for (const key of ['dropout', 'embeddingDropout', 'outputDropout', 'inputDropout', 'recurrentDropout']) {
    if (c[key] !== undefined) checkDropoutRate(where, `${name}.${key}`, c[key]);
  }
  if (c.input === 'onehot' && c.embeddingDropout !== undefined && c.embeddingDropout !== 0) {
    throw new RangeError(
      `${where}: ${name}.embeddingDropout must be 0 with input 'onehot', got ${describe(c.embeddingDropout)}`,
    );
  }
  const resolved = resolveCharModelConfig(c as unknown as CharModelConfig);
  const count = CharModel.layoutOf(resolved).size;
  if (count > L.params) {
    throw new RangeError(
      `${where}: ${name} describes a model of ${count} parameters, more than the limit of ${L.params}`,
    );
  }
  return resolved;
}

/** Where each tensor of a char model sits in its flat params, and the sizes that follow from the config. */
export interface CharModelLayout {
  /** The named tensors in params order (as CharModel.views()). */
  views: ParamView[];
  /** Total parameters (the length of params and grads). */
  size: number;
  /** Floats of state per batch row, all layers: L·H, or 2·L·H for an LSTM. */
  stateSize: number;
}

/**
 * The config with every default filled in (gruVariant 'reset-after', input 'embedding',
 * embeddingDim 32 or 0 for one-hot, layers 1, seed 0): what `model.config` and checkpoints hold.
 * @throws RangeError/TypeError naming the first bad field
 */
export function resolveCharModelConfig(config: CharModelConfig): ResolvedCharModelConfig {
  if (config === null || typeof config !== 'object')
    throw new TypeError(`CharModel: config must be an object, got ${String(config)}`);
  const input = config.input ?? 'embedding';
  if (input !== 'embedding' && input !== 'onehot') {
    throw new RangeError(`CharModel: input must be 'embedding' or 'onehot', got ${JSON.stringify(config.input)}`);
  }
  if (config.cell !== 'rnn' && config.cell !== 'gru' && config.cell !== 'lstm') {
    throw new RangeError(`CharModel: cell must be 'rnn', 'gru' or 'lstm', got ${JSON.stringify(config.cell)}`);
  }
  const gruVariant = config.gruVariant ?? 'reset-after';
  if (gruVariant !== 'reset-after' && gruVariant !== 'reset-before') {
    throw new RangeError(
      `CharModel: gruVariant must be 'reset-after' or 'reset-before', got ${JSON.stringify(config.gruVariant)}`,
    );
  }
  const seed = config.seed ?? 0;
  if (!Number.isSafeInteger(seed))
    throw new RangeError(`CharModel: seed must be an integer, got ${String(config.seed)}`);
  const vocab = new Vocabulary(config.vocab).chars;
  const rate = (name: 'dropout' | 'embeddingDropout' | 'outputDropout' | 'inputDropout' | 'recurrentDropout') =>
    checkDropoutRate('CharModel', name, config[name] ?? 0);
  const embeddingDropout = rate('embeddingDropout');
  if (embeddingDropout > 0 && input !== 'embedding')
    throw new RangeError(
      `CharModel: embeddingDropout needs input 'embedding', got input 'onehot' (inputDropout drops one-hot ids)`,
    );
  return {
    cell: config.cell,
    gruVariant,
    vocab,
    input,
    embeddingDim: input === 'embedding' ? checkPositiveInt('CharModel', 'embeddingDim', config.embeddingDim ?? 32) : 0,
    hidden: checkPositiveInt('CharModel', 'hidden', config.hidden),
    layers: checkPositiveInt('CharModel', 'layers', config.layers ?? 1),
    seed,
    dropout: rate('dropout'),
    embeddingDropout,
    outputDropout: rate('outputDropout'),
    inputDropout: rate('inputDropout'),
    recurrentDropout: rate('recurrentDropout'),
  };
}

/** The RnnStack a resolved char model config implies. */
function stackConfigOf(c: ResolvedCharModelConfig) {
  return {
    kind: c.cell,
    inputSize: c.input === 'embedding' ? c.embeddingDim : c.vocab.length,
    hiddenSize: c.hidden,
    layers: c.layers,
    gruVariant: c.gruVariant,
    dropout: c.dropout,
    inputDropout: c.inputDropout,
    recurrentDropout: c.recurrentDropout,
  };
}

/** The PyTorch tensors (names and shapes) of a char model's state_dict, recurrent module `prefix`. */
function torchShapesOf(c: ResolvedCharModelConfig, prefix: string): [string, number[]][] {
  const V = c.vocab.length;
  const H = c.hidden;
  const GH = { rnn: 1, gru: 3, lstm: 4 }[c.cell] * H;
  const out: [string, number[]][] = [];
  if (c.input === 'embedding') out.push(['embedding.weight', [V, c.embeddingDim]]);
  for (let k = 0; k < c.layers; k++) {
    const nIn = k > 0 ? H : c.input === 'embedding' ? c.embeddingDim : V;
    out.push([`${prefix}.weight_ih_l${k}`, [GH, nIn]], [`${prefix}.weight_hh_l${k}`, [GH, H]]);
    out.push([`${prefix}.bias_ih_l${k}`, [GH]], [`${prefix}.bias_hh_l${k}`, [GH]]);
  }
  out.push(['linear.weight', [V, H]], ['linear.bias', [V]]);
  return out;
}

interface WindowScratch {
  T: number;
  B: number;
  emb: Float32Array;
  dEmb: Float32Array;
  logits: Float32Array;
  dLogits: Float32Array;
  lossPerRow: Float32Array;
  dH: Float32Array;
  /** Dropout masks [T·B × E] and [T·B × H], and the masked top output the head reads (cut on first use). */
  embMask: Float32Array;
  outMask: Float32Array;
  headIn: Float32Array;
}

/**
 * A character-level language model: token ids → embedding [V × E] (or one-hot) → L stacked cells
 * of size H → dense logits [V], trained with softmax cross-entropy and truncated backpropagation
 * through time. Parameters and gradients are one flat buffer each:
 * `[embedding.weight V×E | rnn.* | linear.weight V×H | linear.bias V]`. Windows are time-major:
 * inputs and targets hold T·B ids, token (t, b) at t·B + b. States are flat [B × stateSize].
 * The trainer (@rxrnn/trainer) and generate() drive it.
 *
 * @example
 * ```ts
 * import { CharModel, Vocabulary } from '@rxrnn/cells';
 * const vocab = Vocabulary.fromText('hello world');
 * const model = new CharModel({ cell: 'lstm', vocab: vocab.chars, hidden: 16, seed: 1 });
 * const state = model.createState(1);
 * const ids = vocab.encode('hello');
 * const T = ids.length - 1, B = 1;
 * model.zeroGrads();
 * const { lossSum, count } = model.lossAndGrad(ids.subarray(0, T), ids.subarray(1), T, B, state);
 * console.log(lossSum / count); // ≈ ln 8 ≈ 2.08 nats before training
 * const logits = model.step(Int32Array.of(vocab.id('o')), state); // [B × V]
 * console.log(logits.length); // 8
 * ```
 */
export class CharModel {
  /** The resolved config (defaults filled in): enough to rebuild the model. */
  readonly config: ResolvedCharModelConfig;
  /** The characters and their ids. */
  readonly vocab: Vocabulary;
  /** V. */
  readonly vocabSize: number;
  /** All parameters, one flat buffer (views() names the parts). */
  readonly params: Float32Array;
  /** Gradients, same layout as params; lossAndGrad accumulates into it. */
  readonly grads: Float32Array;
  /** The [V × E] token table, or null for one-hot input. */
  readonly embedding: Embedding | null;
  /** The stacked cells (its params are views of this model's). */
  readonly rnn: RnnStack;
  /** The output layer H → V (views of this model's params). */
  readonly linear: Dense;
  private readonly layout: ParamView[] = [];
  private stepB = 0;
  /** Step scratch for the most rows seen so far; stepEmb/stepLogits view its first B rows. */
  private stepRows = 0;
  private stepEmbStore: Float32Array = new Float32Array(0);
  private stepLogitsStore: Float32Array = new Float32Array(0);
  private stepEmb: Float32Array = new Float32Array(0);
  private stepLogits: Float32Array = new Float32Array(0);
  private win: WindowScratch | null = null;
  /** Seeds of lossAndGrad's masks when the caller gives no draw (from config.seed). */
  private readonly maskSeeds: Rng;
  /** Which masks the last window forward applied (its backward applies them too). */
  private embMasked = false;
  private outMasked = false;

  /**
   * Builds the model with fresh buffers, initialized from `config.seed` — or holding a copy of
   * `params` (trained weights, in the layout of `paramLayout()`), which skips the initialization
   * (its orthogonal matrices take seconds at H 512).
   * @throws RangeError/TypeError naming the first bad field of `config`, or when `params` is not
   *   a Float32Array of the config's parameter count
   */
  constructor(config: CharModelConfig, params?: Float32Array) {
    const c = resolveCharModelConfig(config);
    this.config = c;
    this.vocab = new Vocabulary(c.vocab);
    this.vocabSize = c.vocab.length;
    const V = this.vocabSize;
    const E = c.embeddingDim;
    const H = c.hidden;
    const layout = CharModel.layoutOf(c);
    const nEmb = c.input === 'embedding' ? V * E : 0;
    const nLin = V * H + V;
    const nRnn = layout.size - nEmb - nLin;
    if (params !== undefined) {
      if (!(params instanceof Float32Array))
        throw new TypeError(`CharModel: params must be a Float32Array, got ${describe(params)}`);
      if (params.length !== layout.size) {
        throw new RangeError(
          `CharModel: params must hold the config's ${layout.size} parameters, got ${params.length}`,
        );
      }
    }
    this.params = allocF32(layout.size);
    this.grads = allocF32(layout.size);
    this.layout.push(...layout.views);
    const part = (off: number, n: number) => ({
      params: this.params.subarray(off, off + n),
      grads: this.grads.subarray(off, off + n),
    });
    this.embedding = nEmb > 0 ? new Embedding({ vocabSize: V, dim: E }, part(0, nEmb)) : null;
    this.rnn = new RnnStack(stackConfigOf(c), part(nEmb, nRnn));
    this.linear = new Dense({ inSize: H, outSize: V }, part(nEmb + nRnn, nLin));
    if (params !== undefined) this.params.set(params);
    else {
      // One Rng in layout order, so the config's seed alone fixes every initial weight.
      const rng = new Rng(c.seed);
      this.embedding?.initialize(rng);
      this.rnn.initialize(rng);
      this.linear.initialize(rng);
    }
    // A stream of its own (not the init's), so turning dropout on leaves the initial weights alone.
    this.maskSeeds = new Rng((c.seed ^ 0x6d2b79f5) >>> 0);
  }

  /** True when the config has a dropout probability > 0 (lossAndGrad then draws masks). */
  get hasDropout(): boolean {
    const c = this.config;
    return c.embeddingDropout > 0 || c.outputDropout > 0 || this.rnn.hasDropout;
  }

  /**
   * The layout of the model `config` describes — named tensors, total parameter count, state
   * floats per row — computed without building it (no allocation proportional to the sizes).
   * Params: `[embedding.weight (V×E) | rnn.* (the stack, see RnnStack.layoutOf) | linear.weight
   * (V×H) | linear.bias (V)]`.
   * @throws as resolveCharModelConfig on a bad config.
   */
  static layoutOf(config: CharModelConfig): CharModelLayout {
    const c = resolveCharModelConfig(config);
    const V = c.vocab.length;
    const E = c.embeddingDim;
    const H = c.hidden;
    const nEmb = c.input === 'embedding' ? V * E : 0;
    const stack = RnnStack.layoutOf(stackConfigOf(c));
    const views: ParamView[] = [];
    if (nEmb > 0) views.push({ name: 'embedding.weight', offset: 0, shape: [V, E] });
    for (const v of stack.views) views.push({ ...v, name: `rnn.${v.name}`, offset: nEmb + v.offset });
    views.push({ name: 'linear.weight', offset: nEmb + stack.size, shape: [V, H] });
    views.push({ name: 'linear.bias', offset: nEmb + stack.size + V * H, shape: [V] });
    const stateSize = c.layers * H * (c.cell === 'lstm' ? 2 : 1);
    return { views, size: nEmb + stack.size + V * H + V, stateSize };
  }

  /** The number of parameters: the length of params. */
  paramCount(): number {
    return this.params.length;
  }

  /** Named tensors of params (and grads, same offsets). */
  views(): ParamView[] {
    return this.layout.map((v) => ({ ...v, shape: [...v.shape] }));
  }

  /** Sets every gradient to 0 (lossAndGrad accumulates). */
  zeroGrads(): void {
    this.grads.fill(0);
  }

  /** Zeros for every layer, B rows (see RnnStack.createState). */
  createState(B: number): Float32Array {
    return this.rnn.createState(B);
  }

  /** Floats of state per batch row, all layers. */
  get stateSize(): number {
    return this.rnn.stateSize;
  }

  /**
   * One streaming step: tokens [B] advance `state` in place; returns logits [B × V], a view into
   * the model's scratch valid until the next call. The scratch is cut for the most rows seen so
   * far (and the stack's likewise), so a B that changes from step to step allocates nothing once
   * the largest B has been seen.
   */
  step(tokens: Int32Array, state: Float32Array): Float32Array {
    const B = tokens.length;
    if (B !== this.stepB) {
      checkPositiveInt('CharModel.step', 'tokens.length', B);
      const E = this.config.embeddingDim;
      if (B > this.stepRows) {
        // At least double, so a growing B reallocates O(log B) times.
        this.stepRows = Math.max(B, 2 * this.stepRows);
        freeF32(this.stepEmbStore);
        freeF32(this.stepLogitsStore);
        this.stepEmbStore = this.embedding ? allocF32(this.stepRows * E) : new Float32Array(0);
        this.stepLogitsStore = allocF32(this.stepRows * this.vocabSize);
      }
      this.stepB = B;
      this.stepEmb = this.stepEmbStore.subarray(0, this.embedding ? B * E : 0);
      this.stepLogits = this.stepLogitsStore.subarray(0, B * this.vocabSize);
    }
    let x: Float32Array | Int32Array = tokens;
    if (this.embedding) {
      this.embedding.lookup(this.stepEmb, tokens, B);
      x = this.stepEmb;
    }
    const h = this.rnn.step(state, x, B);
    this.linear.forward(this.stepLogits, h, B);
    return this.stepLogits;
  }

  /**
   * Forward over a window, softmax cross-entropy at every position, backward through time: the
   * training step. Gradients of the MEAN loss (lossSum / count, as PyTorch's CrossEntropyLoss) are
   * ACCUMULATED into `grads`. `state` [B × stateSize] is advanced in place to the window's final
   * state; the backward stops at the window start (truncated BPTT).
   *
   * When the config has dropout, this window's masks are drawn by `dropout` (see DropoutDraw: the
   * trainer passes one per update, so runs and resumed runs repeat their masks), else from the
   * model's own seeded sequence (config.seed), and the loss is that of the masked network.
   */
  lossAndGrad(
    inputs: Int32Array,
    targets: Int32Array,
    T: number,
    B: number,
    state: Float32Array,
    dropout?: DropoutDraw,
  ): LossResult {
    const where = 'CharModel.lossAndGrad';
    const draw = this.hasDropout ? (dropout ?? { seed: this.maskSeeds.nextU32() }) : undefined;
    const w = this.forwardWindow(where, inputs, T, B, state, draw);
    const rows = T * B;
    checkIds(where, 'targets', targets, rows, this.vocabSize);
    const lossSum = softmaxCrossEntropy(w.dLogits, w.lossPerRow, w.logits, targets, rows, this.vocabSize);
    scale(w.dLogits, 1 / rows, rows * this.vocabSize);
    const H = this.config.hidden;
    this.linear.backward(w.dLogits, this.outMasked ? w.headIn : this.rnn.lastOutput(), rows, w.dH);
    if (this.outMasked) maskInPlace(w.dH, w.outMask, rows * H);
    this.rnn.backward(w.dH, null, this.embedding ? w.dEmb : null, null);
    if (this.embedding) {
      if (this.embMasked) maskInPlace(w.dEmb, w.embMask, rows * this.config.embeddingDim);
      this.embedding.backward(w.dEmb, inputs, rows);
    }
    return { lossSum, count: rows };
  }

  /**
   * The masks the last lossAndGrad drew (copies), or null when it drew none (a config without
   * dropout, or the last window call was an evaluation). For inspection and tests.
   */
  lastDropoutMasks(): CharModelDropoutMasks | null {
    const stack = this.rnn.lastDropoutMasks();
    if (!this.embMasked && !this.outMasked && stack === null) return null;
    const w = this.win!;
    return {
      embedding: this.embMasked ? w.embMask.slice() : null,
      output: this.outMasked ? w.outMask.slice() : null,
      layers: stack?.layers ?? this.rnn.cells.map(() => ({ input: null, recurrent: null, output: null })),
    };
  }

  /** The same forward and loss as lossAndGrad, without gradients; `state` advances likewise. */
  evaluate(inputs: Int32Array, targets: Int32Array, T: number, B: number, state: Float32Array): LossResult {
    const w = this.forwardWindow('CharModel.evaluate', inputs, T, B, state);
    const rows = T * B;
    checkIds('CharModel.evaluate', 'targets', targets, rows, this.vocabSize);
    const lossSum = softmaxCrossEntropy(w.dLogits, w.lossPerRow, w.logits, targets, rows, this.vocabSize);
    return { lossSum, count: rows };
  }

  /**
   * Logits [T·B × V] of a window from `state` (advanced in place): a view into the model's
   * scratch, valid until the next window call.
   */
  logits(inputs: Int32Array, T: number, B: number, state: Float32Array): Float32Array {
    return this.forwardWindow('CharModel.logits', inputs, T, B, state).logits;
  }

  /** The window forward; `draw` (training) applies the configured dropout masks. */
  private forwardWindow(
    where: string,
    inputs: Int32Array,
    T: number,
    B: number,
    state: Float32Array,
    draw?: DropoutDraw,
  ): WindowScratch {
    checkPositiveInt(where, 'T', T);
    checkPositiveInt(where, 'B', B);
    const rows = T * B;
    checkIds(where, 'inputs', inputs, rows, this.vocabSize);
    checkF32(where, 'state', state, B * this.stateSize, 'B*stateSize');
    const [seed, row] = draw === undefined ? [0, 0] : checkDraw(where, draw);
    const c = this.config;
    const w = this.window(T, B);
    this.embMasked = draw !== undefined && c.embeddingDropout > 0;
    this.outMasked = draw !== undefined && c.outputDropout > 0;
    let x: Float32Array | Int32Array = inputs;
    if (this.embedding) {
      this.embedding.lookup(w.emb, inputs, rows);
      if (this.embMasked) {
        const E = c.embeddingDim;
        if (w.embMask.length === 0) w.embMask = allocF32(rows * E);
        fillDropoutMask(w.embMask, c.embeddingDropout, T, B, E, seed, row, MASK_STREAM.embedding);
        maskInPlace(w.emb, w.embMask, rows * E);
      }
      x = w.emb;
    }
    let out = this.rnn.forward(x, T, B, state, draw === undefined ? undefined : { seed, firstRow: row });
    if (this.outMasked) {
      const H = c.hidden;
      if (w.outMask.length === 0) {
        w.outMask = allocF32(rows * H);
        w.headIn = allocF32(rows * H);
      }
      fillDropoutMask(w.outMask, c.outputDropout, T, B, H, seed, row, MASK_STREAM.output);
      maskInto(w.headIn, out, w.outMask, rows * H);
      out = w.headIn;
    }
    this.linear.forward(w.logits, out, rows);
    return w;
  }

  private window(T: number, B: number): WindowScratch {
    if (this.win && this.win.T === T && this.win.B === B) return this.win;
    const rows = T * B;
    const V = this.vocabSize;
    const E = this.config.embeddingDim;
    if (this.win)
      for (const a of [
        this.win.emb,
        this.win.dEmb,
        this.win.logits,
        this.win.dLogits,
        this.win.lossPerRow,
        this.win.dH,
        this.win.embMask,
        this.win.outMask,
        this.win.headIn,
      ])
        freeF32(a);
    this.win = {
      T,
      B,
      emb: this.embedding ? allocF32(rows * E) : new Float32Array(0),
      dEmb: this.embedding ? allocF32(rows * E) : new Float32Array(0),
      logits: allocF32(rows * V),
      dLogits: allocF32(rows * V),
      lossPerRow: allocF32(rows),
      dH: allocF32(rows * this.config.hidden),
      embMask: new Float32Array(0),
      outMask: new Float32Array(0),
      headIn: new Float32Array(0),
    };
    return this.win;
  }

  /**
   * Exports params (default) or grads as a PyTorch state_dict: embedding.weight, `${prefix}.*`
   * (see Cell.toTorch for the bias convention), linear.weight, linear.bias.
   */
  toTorchStateDict(
    options: CharModelTorchOptions & { which?: 'params' | 'grads' } = {},
  ): Record<string, TorchTensorF32> {
    const which = options.which ?? 'params';
    const buf = which === 'grads' ? this.grads : this.params;
    const out: Record<string, TorchTensorF32> = {};
    const copy = (name: string) => {
      const v = this.layout.find((l) => l.name === name)!;
      out[name] = { shape: [...v.shape], data: buf.slice(v.offset, v.offset + sizeOf(v.shape)) };
    };
    if (this.embedding) copy('embedding.weight');
    Object.assign(out, this.rnn.toTorch(which, { prefix: `${options.prefix ?? 'rnn'}.` }));
    copy('linear.weight');
    copy('linear.bias');
    return out;
  }

  /**
   * A model described by `config` with the weights of a PyTorch state_dict (names as in
   * toTorchStateDict; bias_ih + bias_hh become the single bias). The config and every tensor's
   * shape, length and finiteness are checked before the model is built, so a config or a dict
   * read from a file cannot make it allocate more than the tensors it holds.
   * @throws TypeError/RangeError naming the setting (`config.hidden ...`, see checkCharModelConfig)
   *   or the tensor (`missing tensor "linear.bias" [65]`, `tensor "rnn.weight_hh_l0" has shape ...`).
   */
  static fromTorchStateDict(
    config: CharModelConfig,
    dict: TorchStateDict,
    options: CharModelTorchOptions = {},
  ): CharModel {
    const where = 'CharModel.fromTorchStateDict';
    const c = checkCharModelConfig(where, 'config', config);
    if (dict === null || typeof dict !== 'object')
      throw new TypeError(`${where}: dict must be an object of tensors, got ${describe(dict)}`);
    const prefix = options.prefix ?? 'rnn';
    for (const [name, shape] of torchShapesOf(c, prefix)) readTensor(where, dict, name, shape);
    const model = new CharModel(c);
    const V = model.vocabSize;
    const H = model.config.hidden;
    if (model.embedding)
      model.embedding.weight.set(readTensor(where, dict, 'embedding.weight', [V, model.config.embeddingDim]));
    model.rnn.fromTorch(dict, { prefix: `${prefix}.` });
    model.linear.weight.set(readTensor(where, dict, 'linear.weight', [V, H]));
    model.linear.bias.set(readTensor(where, dict, 'linear.bias', [V]));
    return model;
  }
}
