// The recurrent-cell core shared by RnnCell, GruCell and LstmCell: parameter layout
// [weight_ih G·H×n_x | weight_hh G·H×H | bias G·H (| bias_hn H)], streaming step, BPTT over a
// CellTape, PyTorch import/export. Params/grads are allocF32 buffers or a model's views of its own.
import {
  allocF32,
  gemmAB,
  gemmABt,
  gemmAtB,
  gemv,
  gemvT,
  initGlorotUniform,
  initOrthogonal,
  Rng,
} from '@rxrnn/kernels';
import { CellTape } from './cell-tape.js';
import { checkDisjoint, checkF32, checkFinite, checkIds, checkPositiveInt } from './internal/checks.js';
import { maskInto, maskRowsInPlace, maskRowsInto } from './internal/dropout.js';
import { LayoutBuilder, slice } from './internal/layout.js';
import { makeTensor, readTensor } from './internal/torch-tensor.js';
import type { CellConfig, CellKind, GruVariant, ParamView, TorchStateDict, TorchTensorF32 } from './types.js';

const GATES: Record<CellKind, number> = { rnn: 1, gru: 3, lstm: 4 };

/** Where a cell keeps its numbers when a model owns them: views of exactly paramCount() floats. */
export interface CellStorage {
  /** The parameters, paramCount() floats in the cell's views() layout. */
  params: Float32Array;
  /** The gradients, same length and layout as `params`. */
  grads: Float32Array;
}

/** Scratch of the fused batch-1 step (allocF32 buffers; G·H floats unless noted). */
export interface StepOneBuffers {
  /** The input copied into WASM memory [n_x]. */
  x: Float32Array;
  /** One-hot input: W_ih's column of the id + b. */
  xb: Float32Array;
  pre: Float32Array;
  act: Float32Array;
  /** GRU: W_hh·h + b_hh. */
  hPre: Float32Array;
  /** A zero-length array (the absent W_ih and x of a one-hot step). */
  empty: Float32Array;
}

/**
 * Variational dropout masks of one training window (Gal & Ghahramani 2016; Keras's `dropout` and
 * `recurrent_dropout`): one mask per batch row, the same at every step t of the window. Values are
 * multipliers, usually 0 or 1/(1 − p) (inverted dropout); the cell reads them again in the
 * backward, so keep them unchanged until then.
 */
export interface CellMasks {
  /** Shape [B × n_x]; the cell sees x_t ⊙ m instead of x_t (one-hot input: the id's column scaled by m[id]). Null = none. */
  input?: Float32Array | null;
  /**
   * Shape [B × H]; the recurrent products use h_{t−1} ⊙ m (W_hh·(h ⊙ m); GRU reset-before also
   * r ⊙ (h ⊙ m)); the state itself (c, and the GRU's z·h) keeps the unmasked h. Null = none.
   */
  recurrent?: Float32Array | null;
}

/**
 * Watches a backward pass through time (`backwardSequence`'s last argument): called once per step,
 * from t = T−1 down to 0, with the gradient of the loss with respect to that step's states.
 * `dh` [B × H] is the total ∂L/∂h_t (through the output at t and every later step); `dc` [B × H]
 * (LSTM, else null) the total ∂L/∂c_t (through h_t = o_t ⊙ tanh(c_t) and c_{t+1}). Both are views
 * into the tape, valid only during the call: copy what you keep, never write to them.
 */
export type StateGradientObserver = (t: number, dh: Float32Array, dc: Float32Array | null) => void;

/** Maps a PyTorch base name ('weight_ih', 'bias_hh', ...) to the key in a state_dict. */
export type TorchNamer = (base: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh') => string;

/**
 * What every cell offers (RnnCell, GruCell, LstmCell): flat parameters and gradients, a streaming
 * step, and a window API (forward over T steps, backward through time) that stacks and the
 * bidirectional package build on. States are flat: B rows of `stateSize` floats, [h | c] for LSTM.
 */
export interface Cell {
  /** Which cell this is. */
  readonly kind: CellKind;
  /** n_x, the size of one input row (or the number of ids of a one-hot input). */
  readonly inputSize: number;
  /** H (n_a), the size of the hidden state. */
  readonly hiddenSize: number;
  /** Floats of state per batch row: H (rnn, gru) or 2H (lstm: [h | c]). */
  readonly stateSize: number;
  /** All parameters, one flat buffer in the order of views(). */
  readonly params: Float32Array;
  /** Gradients of the parameters, same layout; backward passes accumulate into it. */
  readonly grads: Float32Array;
  /** The number of parameters: G·((H + n_x)·H + H), plus H for a reset-after GRU. */
  paramCount(): number;
  /** The named tensors inside `params` (weight_ih [G·H, n_x], weight_hh [G·H, H], bias [G·H], …). */
  views(): ParamView[];
  /**
   * A zero state for B rows, B·stateSize floats (in WASM memory when that backend is active).
   * @throws RangeError when B is not a positive integer
   */
  createState(B: number): Float32Array;
  /**
   * One streaming step: advances `state` [B × stateSize] in place from x [B × n_x] (or, for a
   * one-hot input, B token ids < n_x) and returns h [B × H], a view of `state`.
   * @throws RangeError/TypeError for a state or input of the wrong length or kind, or an id out of range
   */
  step(state: Float32Array, x: Float32Array | Int32Array, B: number): Float32Array;
  /**
   * Evaluation forward over a window without a tape (inference): x [T·B × n_x] time-major (or T·B
   * ids), `state` [B × stateSize] advanced in place to the final state, every step's h written to
   * `out` [T·B × H] (returned). The outputs equal forwardSequence's within float32 rounding
   * (bit for bit where both run the same kernels); nothing is kept for backward.
   * @throws RangeError/TypeError for arrays of the wrong length or kind, or an id out of range
   */
  infer(x: Float32Array | Int32Array, T: number, B: number, state: Float32Array, out: Float32Array): Float32Array;
  /** A fresh tape for a window of T steps over B rows. */
  createTape(T: number, B: number): CellTape;
  /** The cell's own tape for (T, B), reused while the dims stay the same. */
  tape(T: number, B: number): CellTape;
  /**
   * Forward over a window: x is [T·B × n_x] time-major (or T·B ids), state0 [B × stateSize] is
   * read, not changed; `masks` are variational dropout masks (training only). Returns the outputs h_0…h_{T−1} [T·B × H], a view into the tape.
   */
  forwardSequence(tape: CellTape, x: Float32Array | Int32Array, state0: Float32Array, masks?: CellMasks): Float32Array;
  /** Writes the window's final state [B × stateSize] to `out`. */
  finalState(tape: CellTape, out: Float32Array): void;
  /**
   * Backpropagation through the window last run forward on `tape`. Inputs (any may be null for
   * zeros): dOut [T·B × H], the loss gradient at every output; dState [B × stateSize], at the final
   * state. Outputs, written when not null: dx [T·B × n_x] and dState0 [B × stateSize]. Parameter
   * gradients are added to `grads`. `observe` sees ∂L/∂h_t (and ∂L/∂c_t) for t = T−1 … 0.
   * @throws Error when the tape holds no forward pass
   */
  backwardSequence(
    tape: CellTape,
    dOut: Float32Array | null,
    dState: Float32Array | null,
    dx: Float32Array | null,
    dState0: Float32Array | null,
    observe?: StateGradientObserver | null,
  ): void;
  /** Draws fresh parameters from `rng`: Glorot-uniform W_ih, orthogonal W_hh blocks, zero biases (LSTM forget bias `forgetBias`). */
  initialize(rng: Rng): void;
  /**
   * Loads PyTorch weights (weight_ih, weight_hh, bias_ih, bias_hh as in nn.RNNCell / GRUCell /
   * LSTMCell; `name` maps them to the dict's keys). The two biases are summed, except b_hn of a
   * reset-after GRU.
   * @throws RangeError for a missing tensor or one of the wrong shape; TypeError for a reset-before GRU
   */
  fromTorch(dict: TorchStateDict, name?: TorchNamer): void;
  /** The parameters (or gradients) as PyTorch tensors; the bias goes to bias_ih and bias_hh is zeros (b_hn for a reset-after GRU). */
  toTorch(which?: 'params' | 'grads', name?: TorchNamer): Record<string, TorchTensorF32>;
}

/** Validated config with defaults filled in. */
export interface ResolvedCellConfig {
  kind: CellKind;
  inputSize: number;
  hiddenSize: number;
  gruVariant: GruVariant;
  seed: number;
  /** LSTM initial forget-gate bias (default 1). */
  forgetBias: number;
}

export function resolveCellConfig(where: string, config: CellConfig): ResolvedCellConfig {
  if (config === null || typeof config !== 'object') {
    throw new TypeError(`${where}: config must be an object, got ${String(config)}`);
  }
  if (!(config.kind in GATES)) {
    throw new RangeError(`${where}: kind must be 'rnn', 'gru' or 'lstm', got ${JSON.stringify(config.kind)}`);
  }
  const gruVariant = config.gruVariant ?? 'reset-after';
  if (gruVariant !== 'reset-after' && gruVariant !== 'reset-before') {
    throw new RangeError(
      `${where}: gruVariant must be 'reset-after' or 'reset-before', got ${JSON.stringify(config.gruVariant)}`,
    );
  }
  const seed = config.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${where}: seed must be an integer, got ${String(seed)}`);
  const forgetBias = checkFinite(where, 'forgetBias', config.forgetBias ?? 1);
  return {
    kind: config.kind,
    inputSize: checkPositiveInt(where, 'inputSize', config.inputSize),
    hiddenSize: checkPositiveInt(where, 'hiddenSize', config.hiddenSize),
    gruVariant,
    seed,
    forgetBias,
  };
}

/** The named tensors of one cell, offsets relative to the cell's own params. */
export function cellLayout(c: ResolvedCellConfig): LayoutBuilder {
  const GH = GATES[c.kind] * c.hiddenSize;
  const l = new LayoutBuilder();
  l.add('weight_ih', [GH, c.inputSize]);
  l.add('weight_hh', [GH, c.hiddenSize]);
  l.add('bias', [GH]);
  // Porting note: PyTorch keeps bias_ih and bias_hh; their sum is one vector everywhere except
  // reset-after GRU's n block, where b_hn sits inside r ⊙ (W_hn h + b_hn) and cannot be folded.
  if (c.kind === 'gru' && c.gruVariant === 'reset-after') l.add('bias_hn', [c.hiddenSize]);
  return l;
}

const defaultNamer: TorchNamer = (base) => base;

/** rows×cols product for a batch: gemv when one row (the streaming case), else one GEMM. */
function linear(
  out: Float32Array,
  X: Float32Array,
  W: Float32Array,
  rows: number,
  outCols: number,
  inCols: number,
  acc: boolean,
): void {
  if (rows === 1) gemv(out, W, X, outCols, inCols, acc);
  else gemmABt(out, X, W, rows, outCols, inCols, acc);
}

/**
 * The common base of RnnCell, GruCell and LstmCell: the parameter layout
 * [weight_ih G·H×n_x | weight_hh G·H×H | bias G·H (| bias_hn H)], the streaming step and
 * backpropagation through time. Build a cell with `new LstmCell(…)` or createCell.
 */
export abstract class RecurrentCell implements Cell {
  /** {@inheritDoc Cell.kind} */
  readonly kind: CellKind;
  /** {@inheritDoc Cell.inputSize} */
  readonly inputSize: number;
  /** {@inheritDoc Cell.hiddenSize} */
  readonly hiddenSize: number;
  /** {@inheritDoc Cell.stateSize} */
  readonly stateSize: number;
  /** GRU candidate form (see GruVariant); 'reset-after' for the other kinds, where it means nothing. */
  readonly gruVariant: GruVariant;
  /** LSTM: the forget-gate bias initialize() sets (CellConfig.forgetBias, default 1). */
  readonly forgetBias: number;
  /** {@inheritDoc Cell.params} */
  readonly params: Float32Array;
  /** {@inheritDoc Cell.grads} */
  readonly grads: Float32Array;
  /** Gate blocks G. */
  protected readonly G: number;
  protected readonly wIh: Float32Array;
  protected readonly wHh: Float32Array;
  protected readonly b: Float32Array;
  protected readonly gWIh: Float32Array;
  protected readonly gWHh: Float32Array;
  protected readonly gB: Float32Array;
  private readonly layout: ParamView[];
  private stepTape: CellTape | null = null;
  /** The general step's buffers, cut for the most rows seen so far; smaller B view them. */
  private stepStore: CellTape | null = null;
  /** Tapes per B ≤ stepStore.B over stepStore's buffers, so a B that varies allocates nothing. */
  private readonly stepTapes = new Map<number, CellTape>();
  /** h (and c) views of the states seen by step(): several streams may share a cell. */
  private readonly stepViews = new WeakMap<Float32Array, { h: Float32Array; c: Float32Array }>();
  private trainTape: CellTape | null = null;
  /** Batch-1 step buffers (from allocF32, made on the first B = 1 step) for the fused kernels. */
  private one: StepOneBuffers | null = null;
  /** h (and c) views of the states seen by a B = 1 step. */
  private oneViews = new WeakMap<Float32Array, { h: Float32Array; c: Float32Array }>();
  private readonly stepWhere: string;

  /**
   * @param config - kind, n_x, H and the initialization (CellConfig)
   * @param storage - where to keep params and grads (views a model owns); omitted: fresh buffers,
   *   initialized from `config.seed`
   * @throws RangeError/TypeError for a bad config or storage of the wrong length
   */
  constructor(config: CellConfig, storage?: CellStorage) {
    const where = `${config?.kind ?? 'cell'} cell`;
    const c = resolveCellConfig(where, config);
    this.kind = c.kind;
    this.inputSize = c.inputSize;
    this.hiddenSize = c.hiddenSize;
    this.gruVariant = c.gruVariant;
    this.forgetBias = c.forgetBias;
    this.G = GATES[c.kind];
    this.stateSize = c.kind === 'lstm' ? 2 * c.hiddenSize : c.hiddenSize;
    this.stepWhere = `${c.kind}.step`;
    const layout = cellLayout(c);
    this.layout = layout.views;
    if (storage) {
      this.params = checkF32(where, 'storage.params', storage.params, layout.size, 'paramCount');
      this.grads = checkF32(where, 'storage.grads', storage.grads, layout.size, 'paramCount');
    } else {
      this.params = allocF32(layout.size);
      this.grads = allocF32(layout.size);
    }
    const [ih, hh, bias] = this.layout as [ParamView, ParamView, ParamView];
    this.wIh = slice(this.params, ih);
    this.wHh = slice(this.params, hh);
    this.b = slice(this.params, bias);
    this.gWIh = slice(this.grads, ih);
    this.gWHh = slice(this.grads, hh);
    this.gB = slice(this.grads, bias);
    // A model that hands in storage initializes all its parts from one Rng itself.
    if (!storage) this.initialize(new Rng(c.seed));
  }

  /** {@inheritDoc Cell.paramCount} */
  paramCount(): number {
    return this.params.length;
  }

  /** {@inheritDoc Cell.views} */
  views(): ParamView[] {
    return this.layout.map((v) => ({ ...v, shape: [...v.shape] }));
  }

  /**
   * Default init: Glorot-uniform W_ih (fan_in n_x, fan_out H: each gate block is its own layer),
   * orthogonal H×H W_hh blocks (keeps early gradients from exploding or vanishing through time),
   * zero biases, and an LSTM forget-gate bias of `forgetBias` (default 1: remember by default,
   * Jozefowicz et al. 2015).
   */
  initialize(rng: Rng): void {
    const H = this.hiddenSize;
    initGlorotUniform(this.wIh, rng, this.inputSize, H);
    for (let g = 0; g < this.G; g++) initOrthogonal(this.wHh.subarray(g * H * H, (g + 1) * H * H), rng, H, H);
    this.params.fill(0, this.layout[2]!.offset);
    if (this.kind === 'lstm') this.b.fill(this.forgetBias, H, 2 * H);
  }

  /** {@inheritDoc Cell.createState} */
  createState(B: number): Float32Array {
    checkPositiveInt(`${this.kind}.createState`, 'B', B);
    return allocF32(B * this.stateSize);
  }

  /** {@inheritDoc Cell.createTape} */
  createTape(T: number, B: number): CellTape {
    checkPositiveInt(`${this.kind}.createTape`, 'T', T);
    checkPositiveInt(`${this.kind}.createTape`, 'B', B);
    return new CellTape(this.kind, this.gruVariant, this.G, this.hiddenSize, T, B);
  }

  /** A tape for (T, B) owned by this cell, reused while the dims stay the same. */
  tape(T: number, B: number): CellTape {
    if (this.trainTape === null || this.trainTape.T !== T || this.trainTape.B !== B) {
      // Give the old window's buffers back to the WASM allocator before cutting new ones.
      this.trainTape?.free();
      this.trainTape = this.createTape(T, B);
    }
    return this.trainTape;
  }

  /**
   * One streaming step: advances `state` [B × stateSize] in place from x [B × n_x] (or, for a
   * one-hot input, x = B token ids < n_x). Returns h [B × H], a view of `state`.
   */
  step(state: Float32Array, x: Float32Array | Int32Array, B: number): Float32Array {
    const where = this.stepWhere;
    if (B === 1 && this.fusable()) return this.stepOne(where, state, x);
    if (this.stepTape === null || this.stepTape.B !== B) this.stepTape = this.stepTapeFor(where, B);
    const n = B * this.hiddenSize;
    let views = this.stepViews.get(state);
    if (views === undefined || views.h.length !== n) {
      checkF32(where, 'state', state, B * this.stateSize, 'B*stateSize');
      views = { h: state.subarray(0, n), c: state.subarray(n, this.kind === 'lstm' ? 2 * n : n) };
      this.stepViews.set(state, views);
    }
    const tape = this.stepTape;
    this.project(where, tape, x);
    // State in and out of the tape: block copies (h, and c for an LSTM).
    const lstm = this.kind === 'lstm';
    tape.hsT[0]!.set(views.h);
    if (lstm) tape.csT[0]!.set(views.c);
    this.prepare();
    this.advance(tape, 0);
    views.h.set(tape.hsT[1]!);
    if (lstm) views.c.set(tape.csT[1]!);
    return views.h;
  }

  /**
   * Evaluation forward over a window without a tape: a dense window in one kernel call where the
   * kind has one (inferWindow: LstmCell's lstmSequence, the reset-after GruCell's gruSequence),
   * else one streaming step per timestep on the step's small buffers, each step's h copied to
   * `out`. See Cell.infer.
   */
  infer(x: Float32Array | Int32Array, T: number, B: number, state: Float32Array, out: Float32Array): Float32Array {
    const where = `${this.kind}.infer`;
    checkPositiveInt(where, 'T', T);
    checkPositiveInt(where, 'B', B);
    checkF32(where, 'state', state, B * this.stateSize, 'B*stateSize');
    checkF32(where, 'out', out, T * B * this.hiddenSize, 'T*B*H');
    const ids = x instanceof Int32Array;
    if (ids) checkIds(where, 'x (one-hot ids)', x, T * B, this.inputSize);
    else checkF32(where, 'x', x, T * B * this.inputSize, 'T*B*n_x');
    checkDisjoint(where, 'out', out, 'state', state);
    checkDisjoint(where, 'out', out, 'x', x);
    if (!ids && this.inferWindow(x, T, B, state, out)) return out;
    const n = B * this.hiddenSize;
    const w = ids ? B : B * this.inputSize;
    for (let t = 0; t < T; t++) out.set(this.step(state, x.subarray(t * w, (t + 1) * w), B), t * n);
    return out;
  }

  /**
   * A dense window of infer() (arguments checked) as one kernel call; false where the kind has
   * none (then infer steps through it).
   */
  protected inferWindow(_x: Float32Array, _T: number, _B: number, _state: Float32Array, _out: Float32Array): boolean {
    return false;
  }

  /**
   * The one-step tape for B rows. Buffers are cut for the most rows seen so far (at least twice
   * the previous most, so a growing B reallocates O(log B) times) and every smaller B views them:
   * a caller whose B changes from step to step (a micro-batcher) allocates nothing once warm.
   */
  private stepTapeFor(where: string, B: number): CellTape {
    checkPositiveInt(where, 'B', B);
    let tape = this.stepTapes.get(B);
    if (tape !== undefined) return tape;
    if (this.stepStore === null || this.stepStore.B < B) {
      const rows = Math.max(B, 2 * (this.stepStore?.B ?? 0));
      this.stepStore?.free();
      this.stepTapes.clear();
      this.stepStore = this.createTape(1, rows);
      this.stepTapes.set(rows, this.stepStore);
    }
    tape = this.stepTapes.get(B);
    if (tape === undefined) {
      tape = new CellTape(this.kind, this.gruVariant, this.G, this.hiddenSize, 1, B, this.stepStore);
      this.stepTapes.set(B, tape);
    }
    return tape;
  }

  /**
   * The streaming case B = 1 in one fused kernel call (lstmStep, gruStep, rnnStep): state is
   * updated in place; the results are bitwise those of the general path (same kernels' sums).
   */
  private stepOne(where: string, state: Float32Array, x: Float32Array | Int32Array): Float32Array {
    let v = this.oneViews.get(state);
    if (v === undefined) {
      checkF32(where, 'state', state, this.stateSize, 'B*stateSize');
      const H = this.hiddenSize;
      v = { h: state.subarray(0, H), c: this.kind === 'lstm' ? state.subarray(H, 2 * H) : state.subarray(0, 0) };
      this.oneViews.set(state, v);
    }
    this.one ??= this.cutOne();
    const one = this.one;
    const n_x = this.inputSize;
    if (x instanceof Int32Array) {
      // One-hot: the input term is W_ih's column of the id plus the bias, gathered here.
      checkIds(where, 'x (one-hot ids)', x, 1, n_x);
      const id = x[0]!;
      const W = this.wIh;
      const b = this.b;
      const xb = one.xb;
      const GH = xb.length;
      for (let j = 0; j < GH; j++) xb[j] = W[j * n_x + id]! + b[j]!;
      this.fusedStep(v.h, v.c, one, one.empty, one.empty, xb, 0);
    } else {
      checkF32(where, 'x', x, n_x, 'B*n_x');
      one.x.set(x);
      this.fusedStep(v.h, v.c, one, this.wIh, one.x, this.b, n_x);
    }
    return v.h;
  }

  private cutOne(): StepOneBuffers {
    const GH = this.G * this.hiddenSize;
    return {
      x: allocF32(this.inputSize),
      xb: allocF32(GH),
      pre: allocF32(GH),
      act: allocF32(GH),
      hPre: allocF32(this.kind === 'gru' ? GH : 0),
      empty: allocF32(0),
    };
  }

  /**
   * True when this cell has a fused batch-1 step kernel (RnnCell, LstmCell, reset-after GruCell
   * override it). False here, so a subclass made elsewhere keeps the general path.
   */
  protected fusable(): boolean {
    return false;
  }

  /**
   * One fused batch-1 step: input term b + Wih·x (nX = 0: b alone), recurrent term, gates; h (c)
   * in place. Only called when fusable().
   */
  protected fusedStep(
    _h: Float32Array,
    _c: Float32Array,
    _one: StepOneBuffers,
    _Wih: Float32Array,
    _x: Float32Array,
    _b: Float32Array,
    _nX: number,
  ): void {
    throw new Error(`${this.kind}.step: no fused batch-1 step for this cell`);
  }

  /** Throws unless `tape` was cut for a cell of this kind, variant and hidden size. */
  private checkTape(where: string, tape: CellTape): void {
    if (!(tape instanceof CellTape))
      throw new TypeError(`${where}: tape must be a CellTape (from createTape), got ${String(tape)}`);
    const variant = this.kind === 'gru' ? this.gruVariant : tape.variant;
    if (tape.kind !== this.kind || tape.H !== this.hiddenSize || tape.variant !== variant) {
      throw new RangeError(
        `${where}: tape is for a ${tape.kind} cell with H = ${tape.H}, expected ${this.kind} with H = ${this.hiddenSize}`,
      );
    }
  }

  /**
   * Training forward over a window: x [T·B × n_x] rows (t, b) at t·B + b (or T·B one-hot ids),
   * from state0 [B × stateSize], with optional variational dropout masks (see CellMasks; without
   * them the forward is exactly the evaluation one). Keeps what backward needs in `tape`; returns
   * the outputs [T·B × H], a view into the tape.
   */
  forwardSequence(tape: CellTape, x: Float32Array | Int32Array, state0: Float32Array, masks?: CellMasks): Float32Array {
    const where = `${this.kind}.forwardSequence`;
    this.checkTape(where, tape);
    const { T, B } = tape;
    checkF32(where, 'state0', state0, B * this.stateSize, 'B*stateSize');
    const mIn = masks?.input ?? null;
    const mRec = masks?.recurrent ?? null;
    if (mIn !== null) checkF32(where, 'masks.input', mIn, B * this.inputSize, 'B*n_x');
    if (mRec !== null) checkF32(where, 'masks.recurrent', mRec, B * this.hiddenSize, 'B*H');
    tape.setMasks(mIn, mRec, this.inputSize, !(x instanceof Int32Array));
    this.project(where, tape, x);
    const n = B * this.hiddenSize;
    const h0 = tape.hsT[0]!;
    for (let i = 0; i < n; i++) h0[i] = state0[i]!;
    if (this.kind === 'lstm') {
      const c0 = tape.csT[0]!;
      for (let i = 0; i < n; i++) c0[i] = state0[n + i]!;
    }
    this.prepare();
    if (mRec === null) for (let t = 0; t < T; t++) this.advance(tape, t);
    else {
      for (let t = 0; t < T; t++) {
        maskInto(tape.hRecT[t]!, tape.hsT[t]!, mRec, n);
        this.advance(tape, t);
      }
    }
    tape.filled = true;
    return tape.out;
  }

  /** Copies the window's final state into out [B × stateSize]. */
  finalState(tape: CellTape, out: Float32Array): void {
    const n = tape.B * this.hiddenSize;
    checkF32(`${this.kind}.finalState`, 'out', out, tape.B * this.stateSize, 'B*stateSize');
    const h = tape.hsT[tape.T]!;
    for (let i = 0; i < n; i++) out[i] = h[i]!;
    if (this.kind === 'lstm') {
      const c = tape.csT[tape.T]!;
      for (let i = 0; i < n; i++) out[n + i] = c[i]!;
    }
  }

  /**
   * Backward through time over the tape's window. dOut [T·B × H]: loss gradient w.r.t. every
   * output (null = zeros); dState [B × stateSize] w.r.t. the final state (null = zeros, the
   * truncated-BPTT case). Accumulates parameter gradients into `grads`; writes the input gradient
   * into dx [T·B × n_x] and the initial state's into dState0 when they are given. `observe`
   * (default none) sees ∂L/∂h_t (and ∂L/∂c_t) at every step t = T−1 … 0 (StateGradientObserver);
   * without it the pass does no extra work and allocates nothing.
   */
  backwardSequence(
    tape: CellTape,
    dOut: Float32Array | null,
    dState: Float32Array | null,
    dx: Float32Array | null,
    dState0: Float32Array | null,
    observe: StateGradientObserver | null = null,
  ): void {
    const where = `${this.kind}.backwardSequence`;
    this.checkTape(where, tape);
    if (!tape.filled) throw new RangeError(`${where}: the tape holds no forward pass; run forwardSequence first`);
    const { T, B } = tape;
    const H = this.hiddenSize;
    const n = B * H;
    const rows = T * B;
    if (dOut !== null) checkF32(where, 'dOut', dOut, rows * H, 'T*B*H');
    if (dState !== null) checkF32(where, 'dState', dState, B * this.stateSize, 'B*stateSize');
    if (dx !== null && tape.ids === null) checkF32(where, 'dx', dx, rows * this.inputSize, 'T*B*n_x');
    if (dState0 !== null) checkF32(where, 'dState0', dState0, B * this.stateSize, 'B*stateSize');
    if (observe !== null && typeof observe !== 'function')
      throw new TypeError(`${where}: observe must be a function or null, got ${typeof observe}`);
    tape.ensureBackward();
    const lstm = this.kind === 'lstm';
    for (let i = 0; i < n; i++) tape.dh[i] = dState === null ? 0 : dState[i]!;
    if (lstm) for (let i = 0; i < n; i++) tape.dc[i] = dState === null ? 0 : dState[n + i]!;
    for (let t = T - 1; t >= 0; t--) {
      // The output at t feeds the loss directly as well as the next step.
      if (dOut !== null) {
        const dh = tape.dh;
        const o = t * n;
        for (let i = 0; i < n; i++) dh[i] = dh[i]! + dOut[o + i]!;
      }
      // tape.dh is now the total ∂L/∂h_t: exactly what the step below propagates.
      if (observe !== null) observe(t, tape.dh, this.cellStateGradient(tape, t));
      this.retreat(tape, t);
    }
    if (dState0 !== null) {
      for (let i = 0; i < n; i++) dState0[i] = tape.dh[i]!;
      if (lstm) for (let i = 0; i < n; i++) dState0[n + i] = tape.dc[i]!;
    }
    // Whole-window weight gradients: one GEMM each over all T·B rows instead of T small ones.
    const GH = this.G * H;
    const mIn = tape.inMask;
    if (tape.ids !== null) {
      this.scatterOneHot(tape.ids, tape.dXPre, rows, B, mIn);
    } else {
      gemmAtB(this.gWIh, tape.dXPre, tape.input!, GH, this.inputSize, rows, true);
      if (dx !== null) {
        gemmAB(dx, tape.dXPre, this.wIh, rows, this.inputSize, GH, false);
        if (mIn !== null) maskRowsInPlace(dx, mIn, rows, B, this.inputSize);
      }
    }
    gemvT(this.gB, tape.dXPre, tape.ones, rows, GH, true);
    this.recurrentWeightGrads(tape);
  }

  /**
   * xPre = X·W_ihᵀ + b over all of the tape's rows (a one-hot id gathers W_ih's column instead);
   * with tape.inMask, X ⊙ mask (kept in tape.xMasked) or the column scaled by mask[b, id].
   */
  private project(where: string, tape: CellTape, x: Float32Array | Int32Array): void {
    const { B } = tape;
    const rows = tape.T * B;
    const GH = this.G * this.hiddenSize;
    const n_x = this.inputSize;
    const mIn = tape.inMask;
    if (x instanceof Int32Array) {
      checkIds(where, 'x (one-hot ids)', x, rows, n_x);
      const xPre = tape.xPre;
      const W = this.wIh;
      const b = this.b;
      for (let r = 0; r < rows; r++) {
        const id = x[r]!;
        const o = r * GH;
        if (mIn === null) for (let j = 0; j < GH; j++) xPre[o + j] = W[j * n_x + id]! + b[j]!;
        else {
          const m = mIn[(r % B) * n_x + id]!;
          for (let j = 0; j < GH; j++) xPre[o + j] = m * W[j * n_x + id]! + b[j]!;
        }
      }
      tape.ids = x;
      tape.input = null;
    } else {
      checkF32(where, 'x', x, rows * n_x, tape.T === 1 ? 'B*n_x' : 'T*B*n_x');
      let input = x;
      if (mIn !== null) {
        maskRowsInto(tape.xMasked, x, mIn, rows, B, n_x);
        input = tape.xMasked;
      }
      // Seed every row with the bias (a memcpy each), then accumulate X·W_ihᵀ on top: one pass
      // over xPre fewer than a separate addBias.
      const xPre = tape.xPre;
      const b = this.b;
      for (let r = 0; r < rows; r++) xPre.set(b, r * GH);
      linear(xPre, input, this.wIh, rows, GH, n_x, true);
      tape.input = input;
      tape.ids = null;
    }
  }

  /**
   * dW_ih[:, id] += dxPre row: the one-hot input's gradient lands in one column per row (scaled by
   * the row's input mask at the id when there is one).
   */
  private scatterOneHot(ids: Int32Array, dXPre: Float32Array, rows: number, B: number, mIn: Float32Array | null): void {
    const GH = this.G * this.hiddenSize;
    const n_x = this.inputSize;
    const g = this.gWIh;
    for (let r = 0; r < rows; r++) {
      const id = ids[r]!;
      const o = r * GH;
      if (mIn === null) for (let j = 0; j < GH; j++) g[j * n_x + id] = g[j * n_x + id]! + dXPre[o + j]!;
      else {
        const m = mIn[(r % B) * n_x + id]!;
        for (let j = 0; j < GH; j++) g[j * n_x + id] = g[j * n_x + id]! + m * dXPre[o + j]!;
      }
    }
  }

  /** Per-forward preparation of derived buffers (e.g. GRU's [0 | 0 | b_hn] bias). */
  protected prepare(): void {}

  /**
   * Step t of the forward: reads tape.xPreT[t], hsT[t] (csT[t]) and, for the recurrent products,
   * tape.hRecT[t] (hsT[t] itself, or masked by tape.recMask); writes hsT[t+1] (csT[t+1]).
   */
  protected abstract advance(tape: CellTape, t: number): void;

  /**
   * Step t of the backward: tape.dh (tape.dc) hold dL/dh_t (dL/dc_t) on entry and dL/dh_{t-1}
   * (dL/dc_{t-1}) on exit; writes tape.dXPreT[t] and the kind's other per-step gradients. With
   * tape.recMask, the part through the recurrent products is multiplied by the mask.
   */
  protected abstract retreat(tape: CellTape, t: number): void;

  /**
   * For an observer only: the total ∂L/∂c_t [B × H] at step t (LSTM), else null. Called with
   * tape.dh = ∂L/∂h_t and tape.dc = ∂L/∂c_t through c_{t+1}, before retreat(tape, t).
   */
  protected cellStateGradient(_tape: CellTape, _t: number): Float32Array | null {
    return null;
  }

  /** Accumulates dW_hh (and any recurrent bias) over the whole window (against tape.hRec). */
  protected abstract recurrentWeightGrads(tape: CellTape): void;

  /** Plain rows×cols product helper for subclasses. */
  protected linear(
    out: Float32Array,
    X: Float32Array,
    W: Float32Array,
    rows: number,
    outCols: number,
    inCols: number,
    acc: boolean,
  ): void {
    linear(out, X, W, rows, outCols, inCols, acc);
  }

  /**
   * Imports PyTorch weights (weight_ih, weight_hh, bias_ih, bias_hh named through `name`).
   * The single bias becomes bias_ih + bias_hh (summed in float64, stored float32).
   */
  fromTorch(dict: TorchStateDict, name: TorchNamer = defaultNamer): void {
    const where = `${this.kind}.fromTorch`;
    const H = this.hiddenSize;
    const GH = this.G * H;
    const wIh = readTensor(where, dict, name('weight_ih'), [GH, this.inputSize]);
    const wHh = readTensor(where, dict, name('weight_hh'), [GH, H]);
    const bIh = readTensor(where, dict, name('bias_ih'), [GH]);
    const bHh = readTensor(where, dict, name('bias_hh'), [GH]);
    this.checkTorchCompatible(where);
    this.wIh.set(wIh);
    this.wHh.set(wHh);
    for (let j = 0; j < GH; j++) this.b[j] = bIh[j]! + bHh[j]!;
    this.importSplitBias(bIh, bHh);
  }

  /**
   * Exports to PyTorch layout. 'params': bias_ih holds the single bias and bias_hh zeros (GRU
   * reset-after: the n block keeps b_in in bias_ih and b_hn in bias_hh). 'grads': both bias
   * tensors carry dL/db, as PyTorch's two summed biases would.
   */
  toTorch(which: 'params' | 'grads' = 'params', name: TorchNamer = defaultNamer): Record<string, TorchTensorF32> {
    this.checkTorchCompatible(`${this.kind}.toTorch`);
    const H = this.hiddenSize;
    const GH = this.G * H;
    const grads = which === 'grads';
    const bIh = makeTensor([GH], grads ? this.gB : this.b);
    const bHh = grads ? makeTensor([GH], this.gB) : makeTensor([GH], new Float32Array(GH));
    this.exportSplitBias(which, bIh.data, bHh.data);
    return {
      [name('weight_ih')]: makeTensor([GH, this.inputSize], grads ? this.gWIh : this.wIh),
      [name('weight_hh')]: makeTensor([GH, H], grads ? this.gWHh : this.wHh),
      [name('bias_ih')]: bIh,
      [name('bias_hh')]: bHh,
    };
  }

  /** Throws when this cell computes a function PyTorch has no module for. */
  protected checkTorchCompatible(_where: string): void {}

  /** GRU reset-after overrides: its n block keeps bias_ih and bias_hh apart. */
  protected importSplitBias(_bIh: ArrayLike<number>, _bHh: ArrayLike<number>): void {}

  protected exportSplitBias(_which: 'params' | 'grads', _bIh: Float32Array, _bHh: Float32Array): void {}
}
