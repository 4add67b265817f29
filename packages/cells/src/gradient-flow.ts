// gradientFlow(): how far the gradient of a window's last loss reaches back through time, measured
// with the models' own backward pass (an observer on backwardSequence, no second BPTT). Batch 1;
// the model's scratch is used as lossAndGrad uses it, and its grads are restored afterwards.
import { softmaxCrossEntropy } from '@rxrnn/kernels';
import { RecurrentCell, type StateGradientObserver } from './cell.js';
import { CharModel } from './char-model.js';
import { checkF32, checkFinite, checkIds, describe } from './internal/checks.js';
import { RnnStack, type StackGradientObserver } from './rnn-stack.js';
import type { CellKind } from './types.js';

/** Options of gradientFlow(). */
export interface GradientFlowOptions {
  /**
   * The state the window starts from, [1 × stateSize] (all layers, as createState(1) lays it out).
   * Default zeros. Never modified.
   */
  state?: Float32Array;
  /**
   * Cell or stack only: w [H], the loss on the last output L = Σ_j w_j·h_T[j] (so ∂L/∂h_T = w).
   * Default all ones: L = Σ_j h_T[j]. A char model's loss is always its last cross-entropy.
   */
  outputWeights?: Float32Array;
  /** Also return the gradient vectors, not only their norms. Default false. */
  vectors?: boolean;
}

/** The gradient flow of one layer. Index k counts steps back from the window's last one. */
export interface LayerGradientFlow {
  /** h[k] = ‖∂L_T/∂h_{T−k}‖₂ for k = 0 … T−1 (float64 sums); h[0] is the last step's. */
  h: Float64Array;
  /** LSTM: c[k] = ‖∂L_T/∂c_{T−k}‖₂ (through h_{T−k} and c_{T−k+1}); null for rnn and gru. */
  c: Float64Array | null;
  /** With `vectors`: [T × H], row k = ∂L_T/∂h_{T−k}; else null. */
  dh: Float32Array | null;
  /** With `vectors`, LSTM: [T × H], row k = ∂L_T/∂c_{T−k}; else null. */
  dc: Float32Array | null;
}

/** What gradientFlow() measured. */
export interface GradientFlow {
  /** The cell kind measured. */
  kind: CellKind;
  /** Steps in the window. */
  T: number;
  /** H of every layer. */
  hiddenSize: number;
  /** The loss L_T whose gradient was taken: nats for a char model, Σ w_j·h_T[j] for a cell or stack. */
  loss: number;
  /** One entry per layer, layer 0 (the input side) first. */
  layers: LayerGradientFlow[];
}

/**
 * The gradient of the loss at the end of a window with respect to every earlier hidden state,
 * ‖∂L_T/∂h_{T−k}‖ for k = 0 … T−1, per layer (and ‖∂L_T/∂c_{T−k}‖ for an LSTM): how much the
 * last prediction can still learn from the state k steps earlier. In a tanh RNN it shrinks
 * roughly geometrically with k (vanishing gradients: ∂h_t/∂h_{t−1} = diag(1 − h_t²)·W_hh); the
 * LSTM's additive cell path (∂c_t/∂c_{t−1} = diag(f_t)) keeps it alive longer; with large
 * recurrent weights it can grow instead (exploding gradients).
 *
 * It runs the model's own forward and backward pass (`backwardSequence` with an observer) on one
 * window, batch 1, from `options.state` (default zeros):
 * - CharModel: `input` holds T + 1 tokens (ids or a string of the model's characters); the window
 *   reads the first T and L_T is the cross-entropy of the last one given everything before it.
 * - RnnStack or a cell: `input` is x [T × n_x] (a Float32Array) or T one-hot ids (an Int32Array);
 *   L_T = Σ_j w_j·h_T[j] on the top layer's last output, w = `options.outputWeights` (default ones).
 *
 * The model's parameters and `grads` are left as they were (grads are saved and restored). It uses
 * the model's window scratch for (T, 1), as lossAndGrad does: during batched training, measure on a
 * twin (`new CharModel(model.config)` with the params copied) so the trainer's buffers stay put.
 *
 * @param model a CharModel, an RnnStack or a cell from createCell.
 * @param input the window (see above).
 * @param options state, outputWeights, vectors.
 * @returns per layer, the norms (and with `vectors` the gradients) for k = 0 … T−1.
 * @throws TypeError for a model of another kind or an input of the wrong type; RangeError for a
 *   window shorter than one step, a token outside the vocabulary, or a state or weights of the
 *   wrong length.
 * @example
 * ```ts
 * import { CharModel, decayStep, gradientFlow, Vocabulary } from '@rxrnn/cells';
 * const text = 'the quick brown fox jumps over the lazy dog. '.repeat(3);
 * const model = new CharModel({ cell: 'rnn', vocab: Vocabulary.fromText(text).chars, hidden: 32, seed: 1 });
 * const flow = gradientFlow(model, text.slice(0, 61)); // T = 60 steps
 * const h = flow.layers[0]!.h; // h[k] / h[0]: the share of the gradient left k steps back
 * console.log(h[30]! / h[0]!, decayStep(h));
 * ```
 */
export function gradientFlow(
  model: CharModel | RnnStack | RecurrentCell,
  input: Int32Array | Float32Array | string,
  options: GradientFlowOptions = {},
): GradientFlow {
  const where = 'gradientFlow';
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  const vectors = options.vectors ?? false;
  if (typeof vectors !== 'boolean')
    throw new TypeError(`${where}: options.vectors must be a boolean, got ${describe(vectors)}`);
  if (model instanceof CharModel) return charModelFlow(where, model, input, options.state, vectors);
  if (model instanceof RnnStack || model instanceof RecurrentCell) {
    if (typeof input === 'string')
      throw new TypeError(`${where}: a cell or stack reads x as a Float32Array or ids as an Int32Array, got a string`);
    return recurrentFlow(where, model, input, options, vectors);
  }
  throw new TypeError(`${where}: model must be a CharModel, an RnnStack or a cell, got ${describe(model)}`);
}

/**
 * The first k at which norms[k] < threshold · norms[0] (the step where the gradient has vanished
 * to that share of its last-step value), or null when it never does within the window.
 * @param norms a flow's norms, e.g. `flow.layers[0].h`.
 * @param threshold the share, default 1e-3; a finite number > 0.
 */
export function decayStep(norms: ArrayLike<number>, threshold = 1e-3): number | null {
  if (!(typeof threshold === 'number' && threshold > 0 && Number.isFinite(threshold)))
    throw new RangeError(`decayStep: threshold must be a finite number > 0, got ${describe(threshold)}`);
  const first = norms[0];
  if (first === undefined) return null;
  for (let k = 1; k < norms.length; k++) if (norms[k]! < threshold * first) return k;
  return null;
}

/** The per-layer records and the observer that fills them. */
function recorder(
  layers: number,
  T: number,
  H: number,
  lstm: boolean,
  vectors: boolean,
): { flows: LayerGradientFlow[]; observe: StackGradientObserver } {
  const flows: LayerGradientFlow[] = [];
  for (let l = 0; l < layers; l++) {
    flows.push({
      h: new Float64Array(T),
      c: lstm ? new Float64Array(T) : null,
      dh: vectors ? new Float32Array(T * H) : null,
      dc: vectors && lstm ? new Float32Array(T * H) : null,
    });
  }
  const norm = (v: Float32Array) => {
    let s = 0;
    for (let i = 0; i < H; i++) s += v[i]! * v[i]!;
    return Math.sqrt(s);
  };
  const observe: StackGradientObserver = (layer, t, dh, dc) => {
    const f = flows[layer]!;
    const k = T - 1 - t;
    f.h[k] = norm(dh);
    f.dh?.set(dh.subarray(0, H), k * H);
    if (dc !== null && f.c !== null) {
      f.c[k] = norm(dc);
      f.dc?.set(dc.subarray(0, H), k * H);
    }
  };
  return { flows, observe };
}

function startState(where: string, state: Float32Array | undefined, size: number): Float32Array {
  if (state === undefined) return new Float32Array(size);
  return checkF32(where, 'options.state', state, size, 'stateSize').slice();
}

function charModelFlow(
  where: string,
  model: CharModel,
  input: Int32Array | Float32Array | string,
  state0: Float32Array | undefined,
  vectors: boolean,
): GradientFlow {
  let ids: Int32Array;
  if (typeof input === 'string') ids = model.vocab.encode(input);
  else if (input instanceof Int32Array) ids = input;
  else throw new TypeError(`${where}: a char model reads tokens as an Int32Array or a string, got ${describe(input)}`);
  if (ids.length < 2)
    throw new RangeError(`${where}: tokens length ${ids.length}, expected T + 1 >= 2 (a window and its last target)`);
  const T = ids.length - 1;
  const V = model.vocabSize;
  const H = model.config.hidden;
  checkIds(where, 'tokens', ids, ids.length, V);
  const state = startState(where, state0, model.stateSize);
  const saved = model.grads.slice();
  try {
    const logits = model.logits(ids.subarray(0, T), T, 1, state);
    // L_T: the cross-entropy of the last position only; every earlier position's gradient is zero.
    const dLogits = new Float32Array(V);
    const lossRow = new Float32Array(1);
    const loss = softmaxCrossEntropy(dLogits, lossRow, logits.subarray((T - 1) * V), ids.subarray(T), 1, V);
    const dH = new Float32Array(T * H);
    model.linear.backward(dLogits, model.rnn.lastOutput().subarray((T - 1) * H), 1, dH.subarray((T - 1) * H));
    const { flows, observe } = recorder(model.config.layers, T, H, model.config.cell === 'lstm', vectors);
    model.rnn.backward(dH, null, null, null, observe);
    return { kind: model.config.cell, T, hiddenSize: H, loss, layers: flows };
  } finally {
    model.grads.set(saved);
  }
}

function recurrentFlow(
  where: string,
  model: RnnStack | RecurrentCell,
  x: Int32Array | Float32Array,
  options: GradientFlowOptions,
  vectors: boolean,
): GradientFlow {
  const H = model.hiddenSize;
  const nx = model.inputSize;
  let T: number;
  if (x instanceof Int32Array) T = x.length;
  else if (x instanceof Float32Array) {
    if (x.length % nx !== 0)
      throw new RangeError(`${where}: x length ${x.length}, expected T*n_x = a multiple of ${nx}`);
    T = x.length / nx;
  } else throw new TypeError(`${where}: x must be a Float32Array or an Int32Array, got ${describe(x)}`);
  if (T < 1) throw new RangeError(`${where}: the window is empty, expected T >= 1 steps`);
  const w = options.outputWeights ?? new Float32Array(H).fill(1);
  checkF32(where, 'options.outputWeights', w, H, 'H');
  for (let j = 0; j < H; j++) checkFinite(where, `options.outputWeights[${j}]`, w[j]);
  const state = startState(where, options.state, model.stateSize);
  const lstm = model.kind === 'lstm';
  const dOut = new Float32Array(T * H);
  dOut.set(w, (T - 1) * H);
  const saved = model.grads.slice();
  const r = recorder(model instanceof RnnStack ? model.layers : 1, T, H, lstm, vectors);
  try {
    let loss: number;
    if (model instanceof RnnStack) {
      loss = lastLoss(model.forward(x, T, 1, state), w, T, H);
      model.backward(dOut, null, null, null, r.observe);
    } else {
      const tape = model.createTape(T, 1);
      try {
        loss = lastLoss(model.forwardSequence(tape, x, state), w, T, H);
        const observe: StateGradientObserver = (t, dh, dc) => r.observe(0, t, dh, dc);
        model.backwardSequence(tape, dOut, null, null, null, observe);
      } finally {
        tape.free();
      }
    }
    return { kind: model.kind, T, hiddenSize: H, loss, layers: r.flows };
  } finally {
    model.grads.set(saved);
  }
}

/** Σ_j w_j·h_T[j] in float64, h_T the last row of out [T × H]. */
function lastLoss(out: Float32Array, w: Float32Array, T: number, H: number): number {
  let s = 0;
  for (let j = 0; j < H; j++) s += w[j]! * out[(T - 1) * H + j]!;
  return s;
}
