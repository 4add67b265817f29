// RnnStack: L cells of one kind, layer k > 0 reading layer k−1's output — the nn.RNN/GRU/LSTM
// module shape. Input [T·B × n_x] time-major, output [T·B × H]; state = the layers' states
// concatenated (layer 0 first). Params/grads: one allocF32 buffer each, or a model's views.
import { allocF32, freeF32, Rng } from '@rxrnn/kernels';
import type { Cell, TorchNamer } from './cell.js';
import { cellLayout, resolveCellConfig } from './cell.js';
import { createCell } from './create-cell.js';
import { checkF32, checkPositiveInt } from './internal/checks.js';
import type { CellKind, GruVariant, ParamView, TorchStateDict, TorchTensorF32 } from './types.js';

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
  /** LSTM only: every layer's initial forget-gate bias; default 1 (see CellConfig.forgetBias). */
  forgetBias?: number;
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

  /**
   * Training forward over a window: input [T·B × n_x] (or T·B one-hot ids) from `state`, which
   * is advanced in place to the final state. Returns the top layer's outputs [T·B × H], a view
   * valid until the next forward. Each layer keeps its tape for backward().
   */
  forward(input: Float32Array | Int32Array, T: number, B: number, state: Float32Array): Float32Array {
    checkPositiveInt('RnnStack.forward', 'T', T);
    checkPositiveInt('RnnStack.forward', 'B', B);
    checkF32('RnnStack.forward', 'state', state, B * this.stateSize, 'B*stateSize');
    let x: Float32Array | Int32Array = input;
    for (let k = 0; k < this.layers; k++) {
      const cell = this.cells[k]!;
      const tape = cell.tape(T, B);
      const s = this.layerState(state, k, B);
      x = cell.forwardSequence(tape, x, s);
      cell.finalState(tape, s);
    }
    this.winT = T;
    this.winB = B;
    return x as Float32Array;
  }

  /**
   * Backward through the last forward's window. dOutput [T·B × H] (null = zeros), dState
   * [B × stateSize] w.r.t. the final state (null = zeros). Accumulates into `grads`; writes
   * dInput [T·B × n_x] (dense input only) and dState0 [B × stateSize] when given. `observe`
   * (default none) sees every layer's ∂L/∂h_t (and ∂L/∂c_t) on the way (StackGradientObserver);
   * without it nothing extra is computed or allocated.
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
