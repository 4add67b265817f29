// BiLayers: the window engine shared by BidirectionalStack and the bidirectional() operator.
// L layers of (forward, reverse) cell pairs; input [T·B × n_x] (or T·B ids), output [T·B × 2H]
// as [forward | reverse] per row; state [L·2 × B × S], index layer*2 + direction. Owns its tapes.
import { checkF32, checkPositiveInt, describe } from '@rxrnn/kernels/internal';

export { checkF32 };

import type { Cell, CellTape } from '@rxrnn/cells';
import { allocF32, freeF32 } from '@rxrnn/kernels';

/** One layer's two directions. */
export interface DirectionPair {
  forward: Cell;
  reverse: Cell;
}

/** Buffers for one (T, B): cut once, reused while the dims stay the same. */
interface Scratch {
  T: number;
  B: number;
  tapes: [CellTape, CellTape][];
  /** Layer k's concat output [T·B × 2H]; layer k+1 reads it (and its tapes keep a reference). */
  outs: Float32Array[];
  /** Layer k's input reversed in time (the reverse cell's tape keeps a reference). */
  xRev: (Float32Array | Int32Array | null)[];
  dF: Float32Array;
  dR: Float32Array;
  dxF: Float32Array[];
  dxR: Float32Array[];
  dPing: Float32Array;
  dPong: Float32Array;
  owned: Float32Array[];
}

/** dst rows t ← src rows T−1−t, each row block B·w wide. */
function reverseTime(dst: Float32Array | Int32Array, src: Float32Array | Int32Array, T: number, blk: number): void {
  for (let t = 0; t < T; t++) dst.set(src.subarray(t * blk, (t + 1) * blk), (T - 1 - t) * blk);
}

export class BiLayers {
  readonly pairs: DirectionPair[];
  readonly kind: Cell['kind'];
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly layers: number;
  /** Floats of one direction's state per batch row: H (rnn, gru) or 2H (lstm). */
  readonly cellStateSize: number;
  /** Floats of state per batch row over all layers and both directions. */
  readonly stateSize: number;
  private s: Scratch | null = null;
  private filled = false;

  constructor(where: string, pairs: DirectionPair[]) {
    if (!Array.isArray(pairs) || pairs.length === 0)
      throw new RangeError(`${where}: expected at least one layer of (forward, reverse) cells`);
    const first = pairs[0]!.forward;
    if (first === null || typeof first !== 'object' || typeof first.forwardSequence !== 'function') {
      throw new TypeError(`${where}: forward cell must be a cell from createCell, got ${describe(first)}`);
    }
    this.kind = first.kind;
    this.inputSize = first.inputSize;
    this.hiddenSize = first.hiddenSize;
    pairs.forEach(({ forward, reverse }, k) => {
      for (const [name, cell] of [
        ['forward', forward],
        ['reverse', reverse],
      ] as const) {
        if (cell === null || typeof cell !== 'object' || typeof cell.forwardSequence !== 'function') {
          throw new TypeError(
            `${where}: layer ${k} ${name} cell must be a cell from createCell, got ${describe(cell)}`,
          );
        }
        if (cell.kind !== this.kind)
          throw new TypeError(
            `${where}: layer ${k} ${name} cell is ${cell.kind}, expected ${this.kind} like layer 0's forward cell`,
          );
        const nIn = k === 0 ? this.inputSize : 2 * this.hiddenSize;
        if (cell.inputSize !== nIn || cell.hiddenSize !== this.hiddenSize) {
          throw new RangeError(
            `${where}: layer ${k} ${name} cell has n_x ${cell.inputSize}, H ${cell.hiddenSize}; expected n_x ${nIn}, H ${this.hiddenSize}`,
          );
        }
      }
      // One tape per direction: a cell run in both directions would overwrite its own record.
      if (forward === reverse)
        throw new TypeError(`${where}: layer ${k} uses the same cell for both directions; pass two cells`);
    });
    this.pairs = pairs;
    this.layers = pairs.length;
    this.cellStateSize = first.stateSize;
    this.stateSize = this.layers * 2 * this.cellStateSize;
  }

  /** Direction d (0 forward, 1 reverse) of layer k in a state for B rows (a view). */
  dirState(state: Float32Array, k: number, d: 0 | 1, B: number): Float32Array {
    const n = B * this.cellStateSize;
    const i = k * 2 + d;
    return state.subarray(i * n, (i + 1) * n);
  }

  private scratch(T: number, B: number, ids: boolean): Scratch {
    const old = this.s;
    if (old !== null && old.T === T && old.B === B && old.xRev[0] instanceof Int32Array === ids) return old;
    if (old !== null) {
      for (const pair of old.tapes) for (const t of pair) t.free();
      for (const a of old.owned) freeF32(a);
    }
    const owned: Float32Array[] = [];
    const alloc = (n: number) => {
      const a = allocF32(n);
      owned.push(a);
      return a;
    };
    const rows = T * B;
    const H = this.hiddenSize;
    const s: Scratch = {
      T,
      B,
      owned,
      tapes: this.pairs.map(({ forward, reverse }) => [forward.createTape(T, B), reverse.createTape(T, B)]),
      outs: this.pairs.map(() => alloc(rows * 2 * H)),
      xRev: this.pairs.map((_, k) =>
        k === 0 ? (ids ? new Int32Array(rows) : alloc(rows * this.inputSize)) : alloc(rows * 2 * H),
      ),
      dF: alloc(rows * H),
      dR: alloc(rows * H),
      dxF: this.pairs.map((_, k) => alloc(rows * (k === 0 ? this.inputSize : 2 * H))),
      dxR: this.pairs.map((_, k) => alloc(rows * (k === 0 ? this.inputSize : 2 * H))),
      dPing: alloc(rows * 2 * H),
      dPong: alloc(rows * 2 * H),
    };
    this.s = s;
    this.filled = false;
    return s;
  }

  /**
   * Forward over a window from `state` [B × stateSize]: every direction starts from its slice and
   * ends with its final state written back (the reverse direction's final state is after t = 0,
   * as PyTorch's h_n). Returns the top layer's [forward | reverse] rows, a view valid until the
   * next forward.
   */
  forward(where: string, input: Float32Array | Int32Array, T: number, B: number, state: Float32Array): Float32Array {
    checkPositiveInt(where, 'T', T);
    checkPositiveInt(where, 'B', B);
    checkF32(where, 'state', state, B * this.stateSize, 'B*stateSize');
    const ids = input instanceof Int32Array;
    if (!ids && !(input instanceof Float32Array))
      throw new TypeError(`${where}: input must be a Float32Array or Int32Array of ids, got ${describe(input)}`);
    const expected = ids ? T * B : T * B * this.inputSize;
    if (input.length !== expected)
      throw new RangeError(`${where}: input length ${input.length}, expected ${ids ? 'T*B' : 'T*B*n_x'} = ${expected}`);
    const s = this.scratch(T, B, ids);
    const H = this.hiddenSize;
    let x: Float32Array | Int32Array = input;
    for (let k = 0; k < this.layers; k++) {
      const { forward, reverse } = this.pairs[k]!;
      const [tf, tr] = s.tapes[k]!;
      const width = k === 0 ? (ids ? 1 : this.inputSize) : 2 * H;
      const xr = s.xRev[k]!;
      reverseTime(xr, x, T, B * width);
      const sf = this.dirState(state, k, 0, B);
      const sr = this.dirState(state, k, 1, B);
      const of = forward.forwardSequence(tf, x, sf);
      forward.finalState(tf, sf);
      const or = reverse.forwardSequence(tr, xr, sr);
      reverse.finalState(tr, sr);
      // Interleave: row (t, b) = [forward at t | reverse at t], the reverse run's step T−1−t.
      const out = s.outs[k]!;
      // Plain index loops: no subarray views per row in the per-window hot path.
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const r = t * B + b;
          const rr = (T - 1 - t) * B + b;
          const o = r * 2 * H;
          for (let j = 0; j < H; j++) {
            out[o + j] = of[r * H + j]!;
            out[o + H + j] = or[rr * H + j]!;
          }
        }
      }
      x = out;
    }
    this.filled = true;
    return x as Float32Array;
  }

  /** The top layer's [forward | reverse] rows of the last forward, or null before the first. */
  lastTop(): Float32Array | null {
    return this.s !== null && this.filled ? this.s.outs[this.layers - 1]! : null;
  }

  /** Writes every forward direction's state after the first `t` steps of the last window into `state`. */
  forwardStateAt(t: number, state: Float32Array): void {
    const s = this.s!;
    const n = s.B * this.hiddenSize;
    for (let k = 0; k < this.layers; k++) {
      const tape = s.tapes[k]![0];
      const dst = this.dirState(state, k, 0, s.B);
      dst.set(tape.hsT[t]!.subarray(0, n));
      if (this.kind === 'lstm') dst.set(tape.csT[t]!.subarray(0, n), n);
    }
  }

  /**
   * Backward through the last window. dTop [T·B × 2H] w.r.t. the top outputs (null = zeros),
   * dState [B × stateSize] w.r.t. the final states (null = zeros). Parameter gradients accumulate
   * in every cell's grads; dInput [T·B × n_x] (dense input only) and dState0 are written when given.
   */
  backward(
    where: string,
    dTop: Float32Array | null,
    dState: Float32Array | null,
    dInput: Float32Array | null,
    dState0: Float32Array | null,
  ): void {
    const s = this.s;
    if (s === null || !this.filled)
      throw new RangeError(`${where}: no forward pass to differentiate; call forward first`);
    const { T, B } = s;
    const H = this.hiddenSize;
    const rows = T * B;
    const ids = s.xRev[0] instanceof Int32Array;
    if (dTop !== null) checkF32(where, 'dOutput', dTop, rows * 2 * H, 'T*B*2H');
    if (dState !== null) checkF32(where, 'dState', dState, B * this.stateSize, 'B*stateSize');
    if (dState0 !== null) checkF32(where, 'dState0', dState0, B * this.stateSize, 'B*stateSize');
    if (dInput !== null) {
      if (ids)
        throw new RangeError(`${where}: dInput given, but the input was token ids (no input gradient); pass null`);
      checkF32(where, 'dInput', dInput, rows * this.inputSize, 'T*B*n_x');
    }
    let dOut = dTop;
    for (let k = this.layers - 1; k >= 0; k--) {
      const { forward, reverse } = this.pairs[k]!;
      const [tf, tr] = s.tapes[k]!;
      let dF: Float32Array | null = null;
      let dR: Float32Array | null = null;
      if (dOut !== null) {
        dF = s.dF;
        dR = s.dR;
        // Split [forward | reverse] rows; the reverse half goes back to the reverse run's time order.
        for (let t = 0; t < T; t++) {
          for (let b = 0; b < B; b++) {
            const r = t * B + b;
            const rr = (T - 1 - t) * B + b;
            const o = r * 2 * H;
            for (let j = 0; j < H; j++) {
              dF[r * H + j] = dOut[o + j]!;
              dR[rr * H + j] = dOut[o + H + j]!;
            }
          }
        }
      }
      const dx = k > 0 ? (dOut === s.dPing ? s.dPong : s.dPing) : dInput;
      const want = dx !== null;
      const dxF = want ? s.dxF[k]! : null;
      const dxR = want ? s.dxR[k]! : null;
      const pick = (buf: Float32Array | null, d: 0 | 1) => (buf === null ? null : this.dirState(buf, k, d, B));
      forward.backwardSequence(tf, dF, pick(dState, 0), dxF, pick(dState0, 0));
      reverse.backwardSequence(tr, dR, pick(dState, 1), dxR, pick(dState0, 1));
      if (dx !== null) {
        // The layer's input fed both directions: its gradient is the sum, reverse re-reversed.
        const w = dx.length / rows;
        const blk = B * w;
        for (let t = 0; t < T; t++) {
          const o = t * blk;
          const oR = (T - 1 - t) * blk;
          for (let i = 0; i < blk; i++) dx[o + i] = dxF![o + i]! + dxR![oR + i]!;
        }
      }
      dOut = dx;
    }
  }

  /** Gives the scratch buffers back to the WASM allocator; the next forward cuts new ones. */
  free(): void {
    if (this.s === null) return;
    for (const pair of this.s.tapes) for (const t of pair) t.free();
    for (const a of this.s.owned) freeF32(a);
    this.s = null;
    this.filled = false;
  }
}
