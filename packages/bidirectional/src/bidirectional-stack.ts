// BidirectionalStack: nn.RNN/GRU/LSTM(bidirectional=True) on flat buffers. Params: one buffer,
// per layer [forward cell | reverse cell] (PyTorch's state_dict order); input [T·B × n_x] or ids,
// output [T·B × outputSize]; state [L·2 × B × S], index layer*2 + direction (PyTorch's h0 order).

import {
  type Cell,
  type CellKind,
  createCell,
  type GruVariant,
  type ParamView,
  type TorchStateDict,
  type TorchTensorF32,
} from '@rxrnn/cells';
import { cellLayout, resolveCellConfig } from '@rxrnn/cells/internal';
import { allocF32, Rng } from '@rxrnn/kernels';
import { BiLayers, checkF32 } from './internal/bi-layers.js';
import { checkMerge, type MergeMode, mergeBackward, mergedSize, mergeForward } from './merge.js';

/** The shape of a {@link BidirectionalStack}: cell kind, sizes, layers, GRU variant, merge mode, seed. */
export interface BidirectionalStackConfig {
  /** 'rnn' (tanh), 'gru' or 'lstm'. */
  kind: CellKind;
  /** n_x of layer 0. */
  inputSize: number;
  /** H of every direction of every layer. */
  hiddenSize: number;
  /** L, default 1. Layer k > 0 reads layer k−1's [forward | reverse] (2H wide), as PyTorch. */
  layers?: number;
  /** GRU only; default 'reset-after' (PyTorch-exact). 'reset-before' is the course notes' GRU. */
  gruVariant?: GruVariant;
  /** How the top layer's two directions combine per step; default 'concat' (PyTorch's output). */
  merge?: MergeMode;
  /** Seed of the initializer's Rng; default 0. */
  seed?: number;
}

/** PyTorch tensor naming: `${prefix}weight_ih_l${k}` and `${prefix}weight_ih_l${k}_reverse`. */
export interface BidirectionalTorchOptions {
  /** Prepended to every name, e.g. 'rnn.' (default ''). */
  prefix?: string;
}

const WHERE = 'BidirectionalStack';

/**
 * A bidirectional recurrent stack, PyTorch's `nn.RNN/GRU/LSTM(bidirectional=True)` on flat
 * buffers. Per layer a forward cell runs t = 0 … T−1 and a reverse cell t = T−1 … 0, each from its
 * own initial state; layer k > 0 reads layer k−1's `[forward | reverse]` rows (2H wide); the top
 * layer's two directions are merged per step (`concat`: `[h→ | h←]`, PyTorch's output; or `sum`,
 * `mul`, `ave`). Parameters are one flat buffer in PyTorch's state_dict order (per layer the
 * forward cell, then the `_reverse` one), gradients a second buffer of the same layout.
 *
 * Shapes: input `[T·B × n_x]` time-major (or `[T·B]` token ids), output `[T·B × outputSize]`,
 * state `[B × stateSize]` (for PyTorch's `[L·2, B, H]` use {@link packState}/{@link unpackState}).
 *
 * @example
 * ```ts
 * import { BidirectionalStack } from '@rxrnn/bidirectional';
 * const bi = new BidirectionalStack({ kind: 'gru', inputSize: 3, hiddenSize: 4, seed: 1 });
 * const T = 5, B = 1;
 * const out = bi.forward(new Float32Array(T * B * 3).fill(0.5), T, B, bi.createState(B));
 * console.log(out.length); // T·B·2H = 40
 * ```
 */
export class BidirectionalStack {
  /** The cell kind of every direction and layer. */
  readonly kind: CellKind;
  /** n_x of layer 0. */
  readonly inputSize: number;
  /** H of every direction. */
  readonly hiddenSize: number;
  /** L, the number of layers. */
  readonly layers: number;
  /** The GRU form (meaningful for GRU stacks only). */
  readonly gruVariant: GruVariant;
  /** How the top layer's two directions combine per step. */
  readonly merge: MergeMode;
  /** Width of one output row: 2H for 'concat', H otherwise. */
  readonly outputSize: number;
  /** Floats of state per batch row: L·2·H (rnn, gru) or L·2·2H (lstm). */
  readonly stateSize: number;
  /** Every parameter, one flat buffer in PyTorch's order. */
  readonly params: Float32Array;
  /** Gradients, same layout as `params`; backward passes accumulate into it. */
  readonly grads: Float32Array;
  /** Per layer, the forward and the reverse cell (views of params/grads). */
  readonly cells: {
    /** The cell that runs t = 0 … T−1. */
    forward: Cell;
    /** The cell that runs t = T−1 … 0. */
    reverse: Cell;
  }[];
  private readonly engine: BiLayers;
  private readonly layout: ParamView[];
  private merged: Float32Array = new Float32Array(0);
  private dBoth: Float32Array = new Float32Array(0);

  /**
   * Builds the stack, initialized like the cells (seeded), or on caller-owned buffers.
   *
   * @param config - kind, sizes, layers, GRU variant, merge mode and seed.
   * @param storage - flat params and grads of {@link BidirectionalStack.layoutOf}'s size to use
   *   instead of fresh ones (not initialized then).
   * @throws RangeError/TypeError for a bad config or storage of the wrong length.
   */
  constructor(config: BidirectionalStackConfig, storage?: { params: Float32Array; grads: Float32Array }) {
    if (config === null || typeof config !== 'object')
      throw new TypeError(`${WHERE}: config must be an object, got ${String(config)}`);
    this.merge = checkMerge(WHERE, config.merge ?? 'concat');
    const { views, sizes, size } = BidirectionalStack.layoutOf(config);
    this.layout = views;
    this.kind = config.kind;
    this.inputSize = config.inputSize;
    this.hiddenSize = config.hiddenSize;
    this.layers = config.layers ?? 1;
    this.gruVariant = config.gruVariant ?? 'reset-after';
    if (storage) {
      this.params = checkF32(WHERE, 'storage.params', storage.params, size, 'paramCount');
      this.grads = checkF32(WHERE, 'storage.grads', storage.grads, size, 'paramCount');
    } else {
      this.params = allocF32(size);
      this.grads = allocF32(size);
    }
    this.cells = [];
    let off = 0;
    for (let k = 0; k < this.layers; k++) {
      const pair: Cell[] = [];
      for (let d = 0; d < 2; d++) {
        const n = sizes[k * 2 + d]!;
        pair.push(
          createCell(
            {
              kind: this.kind,
              inputSize: k === 0 ? this.inputSize : 2 * this.hiddenSize,
              hiddenSize: this.hiddenSize,
              gruVariant: this.gruVariant,
            },
            { params: this.params.subarray(off, off + n), grads: this.grads.subarray(off, off + n) },
          ),
        );
        off += n;
      }
      this.cells.push({ forward: pair[0]!, reverse: pair[1]! });
    }
    this.engine = new BiLayers(WHERE, this.cells);
    this.stateSize = this.engine.stateSize;
    this.outputSize = mergedSize(this.merge, this.hiddenSize);
    if (!storage) this.initialize(new Rng(config.seed ?? 0));
  }

  /**
   * Named tensors and sizes of a stack with this config, without building it: per layer k the
   * forward cell's `weight_ih_l{k}`, ... then the reverse cell's `weight_ih_l{k}_reverse`, ...
   * `views` are the named tensors, `sizes` the floats of each cell in order, `size` the total.
   */
  static layoutOf(config: BidirectionalStackConfig): {
    /** The named tensors, in PyTorch's order. */
    views: ParamView[];
    /** Floats of each cell, in order. */
    sizes: number[];
    /** Total floats. */
    size: number;
  } {
    const c = resolveCellConfig(WHERE, config);
    const layers = config.layers ?? 1;
    if (!Number.isSafeInteger(layers) || layers < 1)
      throw new RangeError(`${WHERE}: layers must be a positive integer, got ${String(layers)}`);
    const views: ParamView[] = [];
    const sizes: number[] = [];
    let size = 0;
    for (let k = 0; k < layers; k++) {
      // Layer k > 0 reads the previous layer's [forward | reverse]: n_x = 2H.
      const l = cellLayout({ ...c, inputSize: k === 0 ? c.inputSize : 2 * c.hiddenSize });
      for (const suffix of ['', '_reverse']) {
        for (const v of l.views)
          views.push({ name: `${v.name}_l${k}${suffix}`, offset: size + v.offset, shape: [...v.shape] });
        sizes.push(l.size);
        size += l.size;
      }
    }
    return { views, sizes, size };
  }

  /** Initializes every cell in layout order from one Rng (the cells' default init). */
  initialize(rng: Rng): void {
    for (const { forward, reverse } of this.cells) {
      forward.initialize(rng);
      reverse.initialize(rng);
    }
  }

  /** The number of parameters (floats in `params`). */
  paramCount(): number {
    return this.params.length;
  }

  /** The named tensors of `params` (offset and shape each), copies. */
  views(): ParamView[] {
    return this.layout.map((v) => ({ ...v, shape: [...v.shape] }));
  }

  /** Sets every gradient to 0 (before accumulating a new batch). */
  zeroGrads(): void {
    this.grads.fill(0);
  }

  /** Zeros, B × stateSize: [l0 forward | l0 reverse | l1 forward | ...], each [h (B×H) | c (B×H)]. */
  createState(B: number): Float32Array {
    if (!Number.isSafeInteger(B) || B < 1)
      throw new RangeError(`${WHERE}.createState: B must be a positive integer, got ${String(B)}`);
    return allocF32(B * this.stateSize);
  }

  /** The slice of `state` for layer k, direction d (0 forward, 1 reverse), a view. */
  directionState(state: Float32Array, k: number, d: 0 | 1, B: number): Float32Array {
    return this.engine.dirState(state, k, d, B);
  }

  /**
   * Forward over a window [T·B × n_x] (or T·B one-hot ids) from `state`, which ends as PyTorch's
   * h_n/c_n (forward: after t = T−1; reverse: after t = 0). Returns the merged top outputs
   * [T·B × outputSize], a view valid until the next forward.
   */
  forward(input: Float32Array | Int32Array, T: number, B: number, state: Float32Array): Float32Array {
    const both = this.engine.forward(`${WHERE}.forward`, input, T, B, state);
    if (this.merge === 'concat') return both;
    const n = T * B * this.hiddenSize;
    if (this.merged.length !== n) this.merged = new Float32Array(n);
    mergeForward(this.merged, both, T * B, this.hiddenSize, this.merge);
    return this.merged;
  }

  /**
   * Backward through both directions of the last window: dOutput [T·B × outputSize] (null =
   * zeros), dState w.r.t. the final state (null = zeros). Accumulates into `grads`; writes dInput
   * [T·B × n_x] (dense input only) and dState0 [B × stateSize] when given.
   */
  backward(
    dOutput: Float32Array | null,
    dState: Float32Array | null,
    dInput: Float32Array | null,
    dState0: Float32Array | null,
  ): void {
    const where = `${WHERE}.backward`;
    let dTop = dOutput;
    if (dOutput !== null && this.merge !== 'concat') {
      const both = this.lastConcat(where);
      const rows = both.length / (2 * this.hiddenSize);
      checkF32(where, 'dOutput', dOutput, rows * this.hiddenSize, 'T*B*H');
      if (this.dBoth.length !== both.length) this.dBoth = new Float32Array(both.length);
      mergeBackward(this.dBoth, dOutput, both, rows, this.hiddenSize, this.merge);
      dTop = this.dBoth;
    }
    this.engine.backward(where, dTop, dState, dInput, dState0);
  }

  /** The top layer's [forward | reverse] rows of the last forward (before the merge), a view. */
  lastConcat(where = `${WHERE}.lastConcat`): Float32Array {
    const out = this.engine.lastTop();
    if (out === null) throw new RangeError(`${where}: no forward pass yet`);
    return out;
  }

  /** Packs PyTorch h0 [L·2, B, H] (and c0 for LSTM) into a state (index layer*2 + direction). */
  packState(
    B: number,
    h: ArrayLike<number>,
    c?: ArrayLike<number>,
    out: Float32Array = this.createState(B),
  ): Float32Array {
    const where = `${WHERE}.packState`;
    const n = B * this.hiddenSize;
    const D = 2 * this.layers;
    const lstm = this.kind === 'lstm';
    checkF32(where, 'out', out, B * this.stateSize, 'B*stateSize');
    if (h?.length !== D * n)
      throw new RangeError(`${where}: h length ${String(h?.length)}, expected L*2*B*H = ${D * n}`);
    if (lstm && c?.length !== D * n)
      throw new RangeError(`${where}: c length ${String(c?.length)}, expected L*2*B*H = ${D * n}`);
    const per = lstm ? 2 * n : n;
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < n; j++) out[i * per + j] = h[i * n + j]!;
      if (lstm) for (let j = 0; j < n; j++) out[i * per + n + j] = c![i * n + j]!;
    }
    return out;
  }

  /** Splits a state into PyTorch h [L·2, B, H] (and c for LSTM), fresh arrays. */
  unpackState(
    B: number,
    state: Float32Array,
  ): {
    /** h_n `[L·2, B, H]`. */
    h: Float32Array;
    /** c_n `[L·2, B, H]` (LSTM only). */
    c?: Float32Array;
  } {
    checkF32(`${WHERE}.unpackState`, 'state', state, B * this.stateSize, 'B*stateSize');
    const n = B * this.hiddenSize;
    const D = 2 * this.layers;
    const lstm = this.kind === 'lstm';
    const per = lstm ? 2 * n : n;
    const h = new Float32Array(D * n);
    const c = lstm ? new Float32Array(D * n) : undefined;
    for (let i = 0; i < D; i++) {
      h.set(state.subarray(i * per, i * per + n), i * n);
      if (c) c.set(state.subarray(i * per + n, (i + 1) * per), i * n);
    }
    return c ? { h, c } : { h };
  }

  /** Imports `${prefix}{weight,bias}_{ih,hh}_l{k}` and the `_reverse` twins (see Cell.fromTorch). */
  fromTorch(dict: TorchStateDict, { prefix = '' }: BidirectionalTorchOptions = {}): void {
    this.cells.forEach(({ forward, reverse }, k) => {
      forward.fromTorch(dict, (base) => `${prefix}${base}_l${k}`);
      reverse.fromTorch(dict, (base) => `${prefix}${base}_l${k}_reverse`);
    });
  }

  /** Exports params or grads in PyTorch's layout and order (see Cell.toTorch for the bias split). */
  toTorch(
    which: 'params' | 'grads' = 'params',
    { prefix = '' }: BidirectionalTorchOptions = {},
  ): Record<string, TorchTensorF32> {
    const out: Record<string, TorchTensorF32> = {};
    this.cells.forEach(({ forward, reverse }, k) => {
      Object.assign(
        out,
        forward.toTorch(which, (base) => `${prefix}${base}_l${k}`),
      );
      Object.assign(
        out,
        reverse.toTorch(which, (base) => `${prefix}${base}_l${k}_reverse`),
      );
    });
    return out;
  }
}
