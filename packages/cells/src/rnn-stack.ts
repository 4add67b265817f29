// RnnStack: L cells of one kind, layer k > 0 reading layer k−1's output — the nn.RNN/GRU/LSTM
// module shape. Input [T·B × n_x] time-major, output [T·B × H]; state = the layers' states
// concatenated (layer 0 first). Params/grads: one allocF32 buffer each, or a model's views.
import { allocF32, freeF32, Rng } from '@rxrnn/kernels';
import type { Cell, CellMasks, TorchNamer } from './cell.js';
import { cellLayout, resolveCellConfig } from './cell.js';
import { createCell } from './create-cell.js';
import { checkF32, checkPositiveInt } from './internal/checks.js';
import {
  checkDraw,
  checkDropoutRate,
  fillDropoutMask,
  MASK_STREAM,
  maskInPlace,
  maskInto,
} from './internal/dropout.js';
import type { CellKind, DropoutDraw, GruVariant, ParamView, TorchStateDict, TorchTensorF32 } from './types.js';

/** What an RnnStack is: cell kind, sizes, layer count and initialization. */
export interface RnnStackConfig {
  /** 'rnn' (tanh), 'gru' or 'lstm'. */
  kind: CellKind;
  /** n_x of layer 0. */
  inputSize: number;
  /** H of every layer. */
  hiddenSize: number;
  /** L, default 1. */
  layers?: number;
  /** GRU only; default 'reset-after' (see GruVariant). */
  gruVariant?: GruVariant;
  /** Seed of the initializer's Rng; default 0. */
  seed?: number;
  /**
   * PyTorch's `dropout` of nn.RNN/GRU/LSTM: inverted dropout with probability p on the outputs of
   * every layer but the last, a fresh mask per element and step; in [0, 1), default 0.
   */
  dropout?: number;
  /**
   * Keras's `dropout` (variational, Gal & Ghahramani): every layer's input x_t ⊙ m with one mask
   * m [B × n_x] per window and batch row, the same at every step; in [0, 1), default 0.
   */
  inputDropout?: number;
  /**
   * Keras's `recurrent_dropout` (variational): the recurrent products of every layer use
   * h_{t−1} ⊙ m, one mask m [B × H] per window and batch row; in [0, 1), default 0.
   */
  recurrentDropout?: number;
  /** LSTM only: every layer's initial forget-gate bias; default 1 (see CellConfig.forgetBias). */
  forgetBias?: number;
}

/** One layer's dropout masks of a training forward; null where none was drawn. */
export interface LayerDropoutMasks {
  /** The variational input mask [B × n_x] (the same at every step). */
  input: Float32Array | null;
  /** The variational recurrent mask [B × H] on h_{t−1} in the recurrent products. */
  recurrent: Float32Array | null;
  /** The mask on the layer's output [T·B × H], PyTorch's dropout between layers (not the last). */
  output: Float32Array | null;
}

/** The dropout masks a training forward drew (see RnnStack.lastDropoutMasks); null where none. */
export interface StackDropoutMasks {
  /** Per layer, bottom first. */
  layers: LayerDropoutMasks[];
}

/**
 * Watches a stack's backward pass (RnnStack.backward's last argument): called for every layer
 * (top layer first) and step (t = T−1 … 0) with the total ∂L/∂h_t of that layer [B × H] and, for
 * an LSTM, ∂L/∂c_t (else null). The arrays are views valid only during the call (see
 * StateGradientObserver).
 */
export type StackGradientObserver = (layer: number, t: number, dh: Float32Array, dc: Float32Array | null) => void;

/** Naming of the PyTorch tensors: `${prefix}weight_ih_l${k}${suffix}`. */
export interface TorchNameOptions {
  /** Prepended to every name, e.g. 'rnn.' (default ''). */
  prefix?: string;
  /** Appended to every name, e.g. '_reverse' (default ''). */
  suffix?: string;
}

/**
 * L cells of one kind, layer k > 0 reading layer k − 1's output: the shape of PyTorch's nn.RNN,
 * nn.GRU and nn.LSTM modules. Input [T·B × n_x] time-major (row t·B + b), or T·B one-hot ids;
 * output the top layer's h [T·B × H]. The state is the layers' states concatenated, layer 0
 * first, each [B × stateSize of its cell]. Parameters and gradients are one flat buffer each,
 * layer 0 first (views() names them).
 *
 * @example
 * ```ts
 * import { RnnStack } from '@rxrnn/cells';
 * const stack = new RnnStack({ kind: 'gru', inputSize: 3, hiddenSize: 4, layers: 2, seed: 1 });
 * const T = 5, B = 2;
 * const state = stack.createState(B); // [layer 0 | layer 1], each [B × H]
 * const out = stack.forward(new Float32Array(T * B * 3).fill(0.5), T, B, state); // state advanced
 * console.log(out.length); // T·B·H = 40
 * stack.zeroGrads();
 * stack.backward(new Float32Array(T * B * 4).fill(1), null, null, null); // grads of sum(out)
 * ```
 */
export class RnnStack {
  /** The cell kind of every layer. */
  readonly kind: CellKind;
  /** n_x of layer 0. */
  readonly inputSize: number;
  /** H of every layer. */
  readonly hiddenSize: number;
  /** L. */
  readonly layers: number;
  /** GRU candidate form (see GruVariant). */
  readonly gruVariant: GruVariant;
  /** Between-layer dropout probability (RnnStackConfig.dropout); 0 unless configured. */
  readonly dropout: number;
  /** Variational input dropout probability (RnnStackConfig.inputDropout); 0 unless configured. */
  readonly inputDropout: number;
  /** Variational recurrent dropout probability (RnnStackConfig.recurrentDropout); 0 unless configured. */
  readonly recurrentDropout: number;
  /** Floats of state per batch row over all layers: L·H (rnn, gru) or 2·L·H (lstm). */
  readonly stateSize: number;
  /** The layers, 0 first; their params and grads are views of the stack's. */
  readonly cells: Cell[];
  /** All parameters, layer 0 first. */
  readonly params: Float32Array;
  /** Gradients, same layout; backward accumulates into it. */
  readonly grads: Float32Array;
  private readonly layout: ParamView[];
  /** Per-layer views of the states seen by step(), keyed by state (several streams may share a stack). */
  private stepViews = new WeakMap<Float32Array, { B: number; layers: Float32Array[] }>();
  private winT = 0;
  private winB = 0;
  private dBufA: Float32Array = new Float32Array(0);
  private dBufB: Float32Array = new Float32Array(0);
  /** Per-layer dropout masks and dropped outputs (allocF32, cut per (T, B) on the first draw). */
  private masks: { input: Float32Array; recurrent: Float32Array; output: Float32Array; dropped: Float32Array }[] = [];
  private maskT = 0;
  private maskB = 0;
  /** infer()'s output buffers [T·B × H]: layers alternate between the two (the second only when L > 1). */
  private inferOut: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
  /** True when the last forward drew masks (its backward applies them). */
  private masked = false;

  /**
   * @param storage - views of a model's params and grads (paramCount() floats each) instead of fresh buffers
   * @throws RangeError/TypeError for a bad config or storage of the wrong length
   */
  constructor(config: RnnStackConfig, storage?: { params: Float32Array; grads: Float32Array }) {
    const where = 'RnnStack';
    const c = resolveCellConfig(where, config);
    const L = checkPositiveInt(where, 'layers', config.layers ?? 1);
    this.kind = c.kind;
    this.inputSize = c.inputSize;
    this.hiddenSize = c.hiddenSize;
    this.layers = L;
    this.gruVariant = c.gruVariant;
    this.dropout = checkDropoutRate(where, 'dropout', config.dropout ?? 0);
    this.inputDropout = checkDropoutRate(where, 'inputDropout', config.inputDropout ?? 0);
    this.recurrentDropout = checkDropoutRate(where, 'recurrentDropout', config.recurrentDropout ?? 0);
    const { views, sizes, size: total } = RnnStack.layoutOf(config);
    this.layout = views;
    if (storage) {
      this.params = checkF32(where, 'storage.params', storage.params, total, 'paramCount');
      this.grads = checkF32(where, 'storage.grads', storage.grads, total, 'paramCount');
    } else {
      this.params = allocF32(total);
      this.grads = allocF32(total);
    }
    this.cells = [];
    let off = 0;
    for (let k = 0; k < L; k++) {
      const n = sizes[k]!;
      this.cells.push(
        createCell(
          {
            kind: c.kind,
            inputSize: k === 0 ? c.inputSize : c.hiddenSize,
            hiddenSize: c.hiddenSize,
            gruVariant: c.gruVariant,
            forgetBias: c.forgetBias,
          },
          { params: this.params.subarray(off, off + n), grads: this.grads.subarray(off, off + n) },
        ),
      );
      off += n;
    }
    this.stateSize = L * this.cells[0]!.stateSize;
    if (!storage) this.initialize(new Rng(c.seed));
  }

  /** The named tensors and total size of a stack with this config, without building it. */
  static layoutOf(config: RnnStackConfig): {
    /** The named tensors, as views() of a built stack. */
    views: ParamView[];
    /** Parameters per layer. */
    sizes: number[];
    /** Total parameters. */
    size: number;
  } {
    const c = resolveCellConfig('RnnStack', config);
    const L = checkPositiveInt('RnnStack', 'layers', config.layers ?? 1);
    const views: ParamView[] = [];
    const sizes: number[] = [];
    let size = 0;
    for (let k = 0; k < L; k++) {
      const layer = cellLayout({ ...c, inputSize: k === 0 ? c.inputSize : c.hiddenSize });
      for (const v of layer.views) views.push({ name: `${v.name}_l${k}`, offset: size + v.offset, shape: v.shape });
      sizes.push(layer.size);
      size += layer.size;
    }
    return { views, sizes, size };
  }

  /** The top layer's outputs [T·B × H] of the last forward (a view into its tape). */
  lastOutput(): Float32Array {
    if (this.winT === 0) throw new RangeError('RnnStack.lastOutput: no forward pass yet');
    return this.cells[this.layers - 1]!.tape(this.winT, this.winB).out;
  }

  /** Initializes every layer in order from one Rng (see RecurrentCell.initialize). */
  initialize(rng: Rng): void {
    for (const cell of this.cells) cell.initialize(rng);
  }

  /** The number of parameters: the sum of the layers' counts. */
  paramCount(): number {
    return this.params.length;
  }

  /** Named tensors: weight_ih_l{k}, weight_hh_l{k}, bias_l{k} (+ bias_hn_l{k} for reset-after GRU). */
  views(): ParamView[] {
    return this.layout.map((v) => ({ ...v, shape: [...v.shape] }));
  }

  /** Sets every gradient to 0. */
  zeroGrads(): void {
    this.grads.fill(0);
  }

  /** Zeros, B × stateSize: [layer 0 | layer 1 | ...], each layer [h (B×H) | c (B×H)]. */
  createState(B: number): Float32Array {
    checkPositiveInt('RnnStack.createState', 'B', B);
    return allocF32(B * this.stateSize);
  }

  /** Layer k's slice of a stack state for B rows (a view). */
  layerState(state: Float32Array, k: number, B: number): Float32Array {
    const n = B * this.cells[0]!.stateSize;
    return state.subarray(k * n, (k + 1) * n);
  }

  /**
   * One streaming step through all layers: x [B × n_x] (or B one-hot ids), state advanced in
   * place. Returns the top layer's h [B × H], a view of `state`.
   */
  step(state: Float32Array, x: Float32Array | Int32Array, B: number): Float32Array {
    let views = this.stepViews.get(state);
    if (views === undefined || views.B !== B) {
      checkPositiveInt('RnnStack.step', 'B', B);
      checkF32('RnnStack.step', 'state', state, B * this.stateSize, 'B*stateSize');
      views = { B, layers: this.cells.map((_, k) => this.layerState(state, k, B)) };
      this.stepViews.set(state, views);
    }
    let input: Float32Array | Int32Array = x;
    for (let k = 0; k < this.layers; k++) input = this.cells[k]!.step(views.layers[k]!, input, B);
    return input as Float32Array;
  }

  /** True when the config has a dropout probability > 0 (forward with a draw then masks). */
  get hasDropout(): boolean {
    return this.dropout > 0 || this.inputDropout > 0 || this.recurrentDropout > 0;
  }

  /**
   * Forward over a window: input [T·B × n_x] (or T·B one-hot ids) from `state`, which is
   * advanced in place to the final state. Returns the top layer's outputs [T·B × H], a view
   * valid until the next forward. Each layer keeps its tape for backward().
   *
   * `dropout` makes it a training forward: the configured dropout masks are drawn for this window
   * (see DropoutDraw) and applied, and backward() applies them too. Without it (evaluation, the
   * default) no dropout is applied, whatever the config says.
   */
  forward(
    input: Float32Array | Int32Array,
    T: number,
    B: number,
    state: Float32Array,
    dropout?: DropoutDraw,
  ): Float32Array {
    checkPositiveInt('RnnStack.forward', 'T', T);
    checkPositiveInt('RnnStack.forward', 'B', B);
    checkF32('RnnStack.forward', 'state', state, B * this.stateSize, 'B*stateSize');
    const draw = dropout === undefined || !this.hasDropout ? null : checkDraw('RnnStack.forward', dropout);
    if (draw !== null) this.cutMasks(T, B);
    let x: Float32Array | Int32Array = input;
    for (let k = 0; k < this.layers; k++) {
      const cell = this.cells[k]!;
      const tape = cell.tape(T, B);
      const s = this.layerState(state, k, B);
      let masks: CellMasks | undefined;
      if (draw !== null) {
        const m = this.masks[k]!;
        const [seed, row] = draw;
        if (this.inputDropout > 0)
          fillDropoutMask(m.input, this.inputDropout, 1, B, cell.inputSize, seed, row, MASK_STREAM.input + 4 * k);
        if (this.recurrentDropout > 0)
          fillDropoutMask(
            m.recurrent,
            this.recurrentDropout,
            1,
            B,
            this.hiddenSize,
            seed,
            row,
            MASK_STREAM.recurrent + 4 * k,
          );
        masks = {
          input: this.inputDropout > 0 ? m.input : null,
          recurrent: this.recurrentDropout > 0 ? m.recurrent : null,
        };
      }
      let out = cell.forwardSequence(tape, x, s, masks);
      cell.finalState(tape, s);
      if (draw !== null && this.dropout > 0 && k < this.layers - 1) {
        // PyTorch's dropout between layers: layer k+1 reads out ⊙ mask; the tape keeps out itself.
        const m = this.masks[k]!;
        const [seed, row] = draw;
        fillDropoutMask(m.output, this.dropout, T, B, this.hiddenSize, seed, row, MASK_STREAM.between + 4 * k);
        maskInto(m.dropped, out, m.output, T * B * this.hiddenSize);
        out = m.dropped;
      }
      x = out;
    }
    this.winT = T;
    this.winB = B;
    this.masked = draw !== null;
    return x as Float32Array;
  }

  /**
   * Evaluation forward over a window without tapes (inference): input [T·B × n_x] (or T·B one-hot
   * ids) from `state`, which is advanced in place to the final state. Returns the top layer's
   * outputs [T·B × H] in a buffer of the stack's, valid until the next infer(). No dropout; the
   * outputs equal forward()'s within float32 rounding (bit for bit where both run the same
   * kernels, e.g. an LSTM on the native backend with more than 12 rows) and backward() still
   * refers to the last forward(). Each layer runs Cell.infer: one lstmSequence / gruSequence call
   * for an LSTM / reset-after GRU with a dense input.
   * @throws RangeError/TypeError for arrays of the wrong length or kind, or an id out of range
   */
  infer(input: Float32Array | Int32Array, T: number, B: number, state: Float32Array): Float32Array {
    checkPositiveInt('RnnStack.infer', 'T', T);
    checkPositiveInt('RnnStack.infer', 'B', B);
    checkF32('RnnStack.infer', 'state', state, B * this.stateSize, 'B*stateSize');
    const n = T * B * this.hiddenSize;
    if (this.inferOut[0].length !== n) {
      for (const a of this.inferOut) freeF32(a);
      this.inferOut = [allocF32(n), this.layers > 1 ? allocF32(n) : new Float32Array(0)];
    }
    let x: Float32Array | Int32Array = input;
    for (let k = 0; k < this.layers; k++) {
      // Layer k writes the buffer layer k − 1 did not: the top layer's lands in inferOut[(L−1) % 2].
      x = this.cells[k]!.infer(x, T, B, this.layerState(state, k, B), this.inferOut[k & 1]!);
    }
    return x as Float32Array;
  }

  /** Cuts the per-layer mask buffers for (T, B) (only the kinds the config uses). */
  private cutMasks(T: number, B: number): void {
    if (this.maskT === T && this.maskB === B) return;
    for (const m of this.masks) for (const a of [m.input, m.recurrent, m.output, m.dropped]) freeF32(a);
    const H = this.hiddenSize;
    const between = this.dropout > 0;
    this.masks = this.cells.map((cell, k) => ({
      input: this.inputDropout > 0 ? allocF32(B * cell.inputSize) : new Float32Array(0),
      recurrent: this.recurrentDropout > 0 ? allocF32(B * H) : new Float32Array(0),
      output: between && k < this.layers - 1 ? allocF32(T * B * H) : new Float32Array(0),
      dropped: between && k < this.layers - 1 ? allocF32(T * B * H) : new Float32Array(0),
    }));
    this.maskT = T;
    this.maskB = B;
  }

  /**
   * The masks the last forward drew (copies), or null when it drew none (no `dropout` draw, or a
   * config without dropout). For inspection and tests: multipliers 0 or 1/(1 − p).
   */
  lastDropoutMasks(): StackDropoutMasks | null {
    if (!this.masked) return null;
    return {
      layers: this.masks.map((m, k) => ({
        input: this.inputDropout > 0 ? m.input.slice() : null,
        recurrent: this.recurrentDropout > 0 ? m.recurrent.slice() : null,
        output: this.dropout > 0 && k < this.layers - 1 ? m.output.slice() : null,
      })),
    };
  }

  /**
   * Backward through the last forward's window (with the masks it drew, if any). dOutput
   * [T·B × H] (null = zeros), dState [B × stateSize] w.r.t. the final state (null = zeros).
   * Accumulates into `grads`; writes dInput [T·B × n_x] (dense input only) and dState0
   * [B × stateSize] when given. `observe` (default none) sees every layer's ∂L/∂h_t (and
   * ∂L/∂c_t) on the way (StackGradientObserver), after the dropout masks above it: the gradient
   * of the state itself. Without it nothing extra is computed or allocated.
   */
  backward(
    dOutput: Float32Array | null,
    dState: Float32Array | null,
    dInput: Float32Array | null,
    dState0: Float32Array | null,
    observe: StackGradientObserver | null = null,
  ): void {
    const where = 'RnnStack.backward';
    const T = this.winT;
    const B = this.winB;
    const H = this.hiddenSize;
    if (T === 0) throw new RangeError(`${where}: no forward pass to differentiate; call forward first`);
    if (dState !== null) checkF32(where, 'dState', dState, B * this.stateSize, 'B*stateSize');
    if (dState0 !== null) checkF32(where, 'dState0', dState0, B * this.stateSize, 'B*stateSize');
    if (observe !== null && typeof observe !== 'function')
      throw new TypeError(`${where}: observe must be a function or null, got ${typeof observe}`);
    if (this.layers > 1 && this.dBufA.length !== T * B * H) {
      freeF32(this.dBufA);
      freeF32(this.dBufB);
      this.dBufA = allocF32(T * B * H);
      this.dBufB = allocF32(T * B * H);
    }
    let dOut = dOutput;
    for (let k = this.layers - 1; k >= 0; k--) {
      const cell = this.cells[k]!;
      const tape = cell.tape(T, B);
      // Layer k's input gradient is layer k−1's output gradient: ping-pong two buffers.
      const dx = k === 0 ? dInput : dOut === this.dBufA ? this.dBufB : this.dBufA;
      cell.backwardSequence(
        tape,
        dOut,
        dState === null ? null : this.layerState(dState, k, B),
        dx,
        dState0 === null ? null : this.layerState(dState0, k, B),
        observe === null ? null : (t, dh, dc) => observe(k, t, dh, dc),
      );
      // Layer k read layer k−1's output ⊙ mask: the gradient of that output is dx ⊙ mask.
      if (k > 0 && this.masked && this.dropout > 0) maskInPlace(dx!, this.masks[k - 1]!.output, T * B * H);
      dOut = dx;
    }
  }

  /** Packs PyTorch-layout h0 [L, B, H] (and c0 for LSTM) into a stack state. */
  packState(
    B: number,
    h: ArrayLike<number>,
    c?: ArrayLike<number>,
    out: Float32Array = this.createState(B),
  ): Float32Array {
    const n = B * this.hiddenSize;
    const lstm = this.kind === 'lstm';
    checkF32('RnnStack.packState', 'out', out, B * this.stateSize, 'B*stateSize');
    if (h.length !== this.layers * n)
      throw new RangeError(`RnnStack.packState: h length ${h.length}, expected L*B*H = ${this.layers * n}`);
    if (lstm && (c === undefined || c.length !== this.layers * n)) {
      throw new RangeError(`RnnStack.packState: c length ${String(c?.length)}, expected L*B*H = ${this.layers * n}`);
    }
    const per = lstm ? 2 * n : n;
    for (let k = 0; k < this.layers; k++) {
      for (let i = 0; i < n; i++) out[k * per + i] = h[k * n + i]!;
      if (lstm) for (let i = 0; i < n; i++) out[k * per + n + i] = c![k * n + i]!;
    }
    return out;
  }

  /** Splits a stack state into PyTorch-layout h [L, B, H] (and c for LSTM), fresh arrays. */
  unpackState(
    B: number,
    state: Float32Array,
  ): {
    /** [L, B, H], PyTorch's h_n. */
    h: Float32Array;
    /** [L, B, H], PyTorch's c_n (LSTM only). */
    c?: Float32Array;
  } {
    checkF32('RnnStack.unpackState', 'state', state, B * this.stateSize, 'B*stateSize');
    const n = B * this.hiddenSize;
    const lstm = this.kind === 'lstm';
    const per = lstm ? 2 * n : n;
    const h = new Float32Array(this.layers * n);
    const c = lstm ? new Float32Array(this.layers * n) : undefined;
    for (let k = 0; k < this.layers; k++) {
      h.set(state.subarray(k * per, k * per + n), k * n);
      if (c) c.set(state.subarray(k * per + n, (k + 1) * per), k * n);
    }
    return c ? { h, c } : { h };
  }

  /** Imports `${prefix}{weight,bias}_{ih,hh}_l{k}${suffix}` for every layer (see Cell.fromTorch). */
  fromTorch(dict: TorchStateDict, options: TorchNameOptions = {}): void {
    this.cells.forEach((cell, k) => cell.fromTorch(dict, this.namer(k, options)));
  }

  /** Exports params or grads in PyTorch layout (see Cell.toTorch for the bias convention). */
  toTorch(which: 'params' | 'grads' = 'params', options: TorchNameOptions = {}): Record<string, TorchTensorF32> {
    const out: Record<string, TorchTensorF32> = {};
    this.cells.forEach((cell, k) => Object.assign(out, cell.toTorch(which, this.namer(k, options))));
    return out;
  }

  private namer(k: number, { prefix = '', suffix = '' }: TorchNameOptions): TorchNamer {
    return (base) => `${prefix}${base}_l${k}${suffix}`;
  }
}
