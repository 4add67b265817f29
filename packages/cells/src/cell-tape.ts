// CellTape: everything one cell's forward over a window [T, B] keeps for backward, plus the
// backward's scratch. Buffers come from allocF32 once per (T, B); per-step views are cut once
// here so that the step loops allocate nothing. The tape owns its buffers (a tape cut over a
// larger `backing` tape views the prefixes of that one's forward buffers instead); the cell reads them.
import { allocF32, freeF32 } from '@rxrnn/kernels';
import type { CellKind, GruVariant } from './types.js';

/** `count` consecutive views of `rows`-sized blocks of `buf`. */
function blocks(buf: Float32Array, count: number, rows: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let t = 0; t < count; t++) out.push(buf.subarray(t * rows, (t + 1) * rows));
  return out;
}

/**
 * The buffers of one cell's forward pass over a window of T steps and B rows, kept for the
 * backward pass, and that pass's scratch (allocF32 buffers, cut once per (T, B)). Opaque: get one
 * from `cell.createTape(T, B)` or `cell.tape(T, B)`, pass it to forwardSequence, finalState and
 * backwardSequence, and call free() when done with a tape of your own.
 */
export class CellTape {
  /** Timesteps this tape was cut for. */
  readonly T: number;
  /** Batch rows this tape was cut for. */
  readonly B: number;
  /** Input pre-activations X·W_ihᵀ + b, [T·B × G·H]; for rnn/lstm the W_hh·h term is added in place. @internal */
  readonly xPre: Float32Array;
  /** @internal */
  readonly xPreT: Float32Array[];
  /** Hidden states [(T+1)·B × H]: rows 0..B are the initial state, rows (t+1)·B.. the output at t. @internal */
  readonly hs: Float32Array;
  /** @internal */
  readonly hsT: Float32Array[];
  /** h_{t-1} for every t, [T·B × H] (the W_hh gradient's right operand). @internal */
  readonly hPrev: Float32Array;
  /** The window's outputs h_0..h_{T-1}, [T·B × H]. @internal */
  readonly out: Float32Array;
  /** LSTM cell states, same layout as hs (empty otherwise). @internal */
  readonly cs: Float32Array;
  /** @internal */
  readonly csT: Float32Array[];
  /** Activated gates [T·B × G·H] (lstm, gru). @internal */
  readonly act: Float32Array;
  /** @internal */
  readonly actT: Float32Array[];
  /** GRU reset-after: W_hh·h + b_hh per step, [T·B × 3H]. @internal */
  readonly hPre: Float32Array;
  /** @internal */
  readonly hPreT: Float32Array[];
  /** GRU reset-before: W_h{r,z}·h [T·B × 2H], r⊙h and W_hn·(r⊙h) [T·B × H]. @internal */
  readonly hPreRzT: Float32Array[];
  /** @internal */
  readonly rh: Float32Array;
  /** @internal */
  readonly rhT: Float32Array[];
  /** @internal */
  readonly hnT: Float32Array[];

  /** Set by the forward: the window's input (dense rows or one-hot ids; dense: after inMask). @internal */
  input: Float32Array | null = null;
  /** @internal */
  ids: Int32Array | null = null;
  /**
   * Variational dropout masks of the last forward (the caller's arrays, read again by the
   * backward): inMask [B × n_x] scales the input, recMask [B × H] the h_{t−1} of the recurrent
   * products, the same at every step. Null when the forward had none. @internal
   */
  inMask: Float32Array | null = null;
  /** See inMask. @internal */
  recMask: Float32Array | null = null;
  /** h_{t−1} rows as the recurrent products see them: hPrev / hsT, or h_{t−1} ⊙ recMask. @internal */
  hRec: Float32Array;
  /** hRec as T blocks of [B × H], one per step. @internal */
  hRecT: Float32Array[];
  /** The dense input ⊙ inMask [T·B × n_x] (cut on the first masked dense forward). @internal */
  xMasked: Float32Array = new Float32Array(0);
  /** [B × H] scratch of the masked recurrent backward (cut with the first recMask). @internal */
  dRec: Float32Array = new Float32Array(0);
  private hMasked: Float32Array = new Float32Array(0);
  private hMaskedT: Float32Array[] = [];
  /** True once a forward filled the tape (backward refuses an empty tape). @internal */
  filled = false;

  // Backward buffers, cut on the first backward (inference never pays for them).
  /** @internal */
  dXPre: Float32Array = new Float32Array(0);
  /** @internal */
  dXPreT: Float32Array[] = [];
  /** @internal */
  dHPre: Float32Array = new Float32Array(0);
  /** @internal */
  dHPreT: Float32Array[] = [];
  /** @internal */
  dHPreRz: Float32Array = new Float32Array(0);
  /** @internal */
  dHPreRzT: Float32Array[] = [];
  /** @internal */
  dHn: Float32Array = new Float32Array(0);
  /** @internal */
  dHnT: Float32Array[] = [];
  /** Per-step gradient carriers [B × H] (two each: current and previous). @internal */
  dh: Float32Array = new Float32Array(0);
  /** @internal */
  dh2: Float32Array = new Float32Array(0);
  /** @internal */
  dc: Float32Array = new Float32Array(0);
  /** @internal */
  dc2: Float32Array = new Float32Array(0);
  /** @internal */
  drh: Float32Array = new Float32Array(0);
  /** T·B ones: bias gradients are column sums, one gemvT over the window. @internal */
  ones: Float32Array = new Float32Array(0);
  /** [G·H] scratch for column sums that are split between two bias vectors. @internal */
  colSums: Float32Array = new Float32Array(0);
  /** [B × H] scratch of a backward observer (LSTM: the total ∂L/∂c_t), cut on first use. */
  private observed: Float32Array = new Float32Array(0);

  /** Every allocF32 buffer this tape cut, for free(). */
  private readonly owned: Float32Array[] = [];
  /** A tape of the same cell with at least as many rows whose forward buffers this one views. */
  private backing: CellTape | null;
  private viewed = 0;
  /** The cell shape this tape was cut for (a cell refuses a tape of another shape). */
  readonly kind: CellKind;
  /** The GRU variant of that cell. */
  readonly variant: GruVariant;
  /** Its gate blocks. */
  readonly G: number;
  /** Its hidden size. */
  readonly H: number;

  /**
   * `backing`: a tape cut for the same cell and T with B' ≥ B rows. The forward buffers are then
   * prefixes of its buffers (no allocation: what Cell.step does when B changes between steps);
   * this tape owns nothing until a backward, and must not outlive `backing`.
   * @internal
   */
  constructor(
    kind: CellKind,
    variant: GruVariant,
    G: number,
    H: number,
    T: number,
    B: number,
    backing: CellTape | null = null,
  ) {
    this.backing = backing;
    this.kind = kind;
    this.variant = variant;
    this.G = G;
    this.H = H;
    this.T = T;
    this.B = B;
    const GH = G * H;
    const rows = T * B;
    this.xPre = this.alloc(rows * GH);
    this.xPreT = blocks(this.xPre, T, B * GH);
    this.hs = this.alloc((T + 1) * B * H);
    this.hsT = blocks(this.hs, T + 1, B * H);
    this.hPrev = this.hs.subarray(0, rows * H);
    this.out = this.hs.subarray(B * H);
    this.hRec = this.hPrev;
    this.hRecT = this.hsT;
    const lstm = kind === 'lstm';
    this.cs = lstm ? this.alloc((T + 1) * B * H) : new Float32Array(0);
    this.csT = lstm ? blocks(this.cs, T + 1, B * H) : [];
    this.act = kind === 'rnn' ? new Float32Array(0) : this.alloc(rows * GH);
    this.actT = kind === 'rnn' ? [] : blocks(this.act, T, B * GH);
    const after = kind === 'gru' && variant === 'reset-after';
    const before = kind === 'gru' && variant === 'reset-before';
    this.hPre = after ? this.alloc(rows * GH) : new Float32Array(0);
    this.hPreT = after ? blocks(this.hPre, T, B * GH) : [];
    this.hPreRzT = before ? blocks(this.alloc(rows * 2 * H), T, B * 2 * H) : [];
    this.rh = before ? this.alloc(rows * H) : new Float32Array(0);
    this.rhT = before ? blocks(this.rh, T, B * H) : [];
    this.hnT = before ? blocks(this.alloc(rows * H), T, B * H) : [];
    // Only the forward buffers are lent: a backward on this tape cuts its own.
    this.backing = null;
  }

  private alloc(n: number): Float32Array {
    // The constructor cuts the same buffers in the same order for every B, each n ∝ B.
    const lent = this.backing?.owned[this.viewed++];
    if (lent !== undefined && lent.length >= n) return lent.subarray(0, n);
    const a = allocF32(n);
    this.owned.push(a);
    return a;
  }

  /**
   * Returns the tape's buffers to the WASM allocator (a no-op for ordinary arrays). The tape and
   * every view taken from it must not be used afterwards.
   */
  free(): void {
    for (const a of this.owned) freeF32(a);
    this.owned.length = 0;
    this.filled = false;
  }

  /**
   * Sets the variational masks of the coming forward (null = none) and points hRec/hRecT at the
   * masked copies or at the plain states; cuts the buffers they need on first use.
   * @internal
   */
  setMasks(input: Float32Array | null, recurrent: Float32Array | null, inputSize: number, dense: boolean): void {
    this.inMask = input;
    this.recMask = recurrent;
    const rows = this.T * this.B;
    // (A tape is cut per cell, so n_x does not change; the old buffer stays owned until free().)
    if (input !== null && dense && this.xMasked.length !== rows * inputSize)
      this.xMasked = this.alloc(rows * inputSize);
    if (recurrent === null) {
      this.hRec = this.hPrev;
      this.hRecT = this.hsT;
      return;
    }
    if (this.hMasked.length === 0) {
      this.hMasked = this.alloc(rows * this.H);
      this.hMaskedT = blocks(this.hMasked, this.T, this.B * this.H);
      this.dRec = this.alloc(this.B * this.H);
    }
    this.hRec = this.hMasked;
    this.hRecT = this.hMaskedT;
  }

  /** The observer's [B × H] scratch (cut once, on the first observed backward). @internal */
  observerScratch(): Float32Array {
    if (this.observed.length === 0) this.observed = this.alloc(this.B * this.H);
    return this.observed;
  }

  /** Cuts the backward buffers once. @internal */
  ensureBackward(): void {
    if (this.dh.length > 0) return;
    const { T, B, H, G } = this;
    const rows = T * B;
    const GH = G * H;
    this.dXPre = this.alloc(rows * GH);
    this.dXPreT = blocks(this.dXPre, T, B * GH);
    if (this.kind === 'gru' && this.variant === 'reset-after') {
      this.dHPre = this.alloc(rows * GH);
      this.dHPreT = blocks(this.dHPre, T, B * GH);
    }
    if (this.kind === 'gru' && this.variant === 'reset-before') {
      this.dHPreRz = this.alloc(rows * 2 * H);
      this.dHPreRzT = blocks(this.dHPreRz, T, B * 2 * H);
      this.dHn = this.alloc(rows * H);
      this.dHnT = blocks(this.dHn, T, B * H);
      this.drh = this.alloc(B * H);
    }
    this.dh = this.alloc(B * H);
    this.dh2 = this.alloc(B * H);
    if (this.kind === 'lstm') {
      this.dc = this.alloc(B * H);
      this.dc2 = this.alloc(B * H);
    }
    this.ones = this.alloc(rows);
    this.ones.fill(1);
    this.colSums = this.alloc(GH);
  }
}
