// Test oracle: an independent float64 forward of stacks and the char model, written straight from
// the gate equations (plain loops, no kernels), plus central finite differences over it.
// Parameters are read from a flat Float64Array with the project's layout (views() offsets).
import type { CellKind, GruVariant, ParamView } from '../src/index.js';

const sigm = (v: number) => 1 / (1 + Math.exp(-v));

export interface StackSpec {
  kind: CellKind;
  variant: GruVariant;
  inputSize: number;
  hidden: number;
  layers: number;
  /** views() of the stack, names weight_ih_l{k}, weight_hh_l{k}, bias_l{k}, bias_hn_l{k} (prefix allowed). */
  views: ParamView[];
  prefix?: string;
  /**
   * Fixed dropout masks (multipliers), as RnnStack.lastDropoutMasks gives them: per layer the
   * variational input [B × n_x] and recurrent [B × H] masks and the mask on its output [T·B × H].
   */
  masks?: { input: ArrayLike<number> | null; recurrent: ArrayLike<number> | null; output: ArrayLike<number> | null }[];
}

const G: Record<CellKind, number> = { rnn: 1, gru: 3, lstm: 4 };

/**
 * A nudge of one state element inside the forward, for finite differences with respect to a
 * hidden state: `delta` is added to h_t[index] of `layer` (batch row 0) right after step t computes
 * it, or for 'c' to the LSTM's c_t[index] before h_t = o ⊙ tanh(c_t) is computed from it. Every
 * later use (the next step, the layer above, the loss) sees the nudged value.
 */
export interface StateNudge {
  layer: number;
  t: number;
  state: 'h' | 'c';
  index: number;
  delta: number;
}

function offsetOf(spec: StackSpec, name: string): number {
  const v = spec.views.find((x) => x.name === `${spec.prefix ?? ''}${name}`);
  if (!v) throw new Error(`oracle: no view ${name}`);
  return v.offset;
}

/** out[r] = Σ_c W[r, c]·x[c] + (bias ? bias[r] : 0), W at p[w..] rows×cols. */
function matvec(p: Float64Array, w: number, x: ArrayLike<number>, rows: number, cols: number, bias = -1): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = bias >= 0 ? p[bias + r]! : 0;
    for (let c = 0; c < cols; c++) s += p[w + r * cols + c]! * x[c]!;
    out[r] = s;
  }
  return out;
}

/** v ⊙ m[o .. o + v.length) (a copy), or v itself without a mask. */
function masked(v: ArrayLike<number>, m: ArrayLike<number> | null | undefined, o: number): ArrayLike<number> {
  if (!m) return v;
  return Float64Array.from({ length: v.length }, (_, j) => v[j]! * m[o + j]!);
}

/**
 * One cell step for one batch row; returns [h', c'] (c' empty unless lstm). mIn/mRec: the row's
 * variational masks (Keras: x ⊙ mIn, and h ⊙ mRec in the recurrent products only).
 */
function cellStep(
  spec: StackSpec,
  p: Float64Array,
  k: number,
  xRaw: ArrayLike<number>,
  h: Float64Array,
  c: Float64Array,
  mIn: ArrayLike<number> | null = null,
  mRec: ArrayLike<number> | null = null,
  nudge: { state: 'h' | 'c'; index: number; delta: number } | null = null,
): [Float64Array, Float64Array] {
  const H = spec.hidden;
  const nx = k === 0 ? spec.inputSize : H;
  const GH = G[spec.kind] * H;
  const wIh = offsetOf(spec, `weight_ih_l${k}`);
  const wHh = offsetOf(spec, `weight_hh_l${k}`);
  const b = offsetOf(spec, `bias_l${k}`);
  const x = masked(xRaw, mIn, 0);
  // hr: h as the recurrent products see it; the state update (c, z·h) uses h itself.
  const hr = masked(h, mRec, 0);
  const px = matvec(p, wIh, x, GH, nx, b);
  const h2 = new Float64Array(H);
  const c2 = new Float64Array(spec.kind === 'lstm' ? H : 0);
  if (spec.kind === 'rnn') {
    const ph = matvec(p, wHh, hr, H, H);
    for (let j = 0; j < H; j++) h2[j] = Math.tanh(px[j]! + ph[j]!);
  } else if (spec.kind === 'lstm') {
    const ph = matvec(p, wHh, hr, GH, H);
    for (let j = 0; j < H; j++) {
      const i = sigm(px[j]! + ph[j]!);
      const f = sigm(px[H + j]! + ph[H + j]!);
      const g = Math.tanh(px[2 * H + j]! + ph[2 * H + j]!);
      const o = sigm(px[3 * H + j]! + ph[3 * H + j]!);
      c2[j] = f * c[j]! + i * g;
      if (nudge?.state === 'c' && nudge.index === j) c2[j] = c2[j]! + nudge.delta;
      h2[j] = o * Math.tanh(c2[j]!);
    }
  } else if (spec.variant === 'reset-after') {
    const ph = matvec(p, wHh, hr, GH, H);
    const bhn = offsetOf(spec, `bias_hn_l${k}`);
    for (let j = 0; j < H; j++) {
      const r = sigm(px[j]! + ph[j]!);
      const z = sigm(px[H + j]! + ph[H + j]!);
      const n = Math.tanh(px[2 * H + j]! + r * (ph[2 * H + j]! + p[bhn + j]!));
      h2[j] = (1 - z) * n + z * h[j]!;
    }
  } else {
    const prz = matvec(p, wHh, hr, 2 * H, H);
    const r = new Float64Array(H);
    const rh = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      r[j] = sigm(px[j]! + prz[j]!);
      rh[j] = r[j]! * hr[j]!;
    }
    const pn = matvec(p, wHh + 2 * H * H, rh, H, H);
    for (let j = 0; j < H; j++) {
      const z = sigm(px[H + j]! + prz[H + j]!);
      const n = Math.tanh(px[2 * H + j]! + pn[j]!);
      h2[j] = (1 - z) * n + z * h[j]!;
    }
  }
  if (nudge?.state === 'h') h2[nudge.index] = h2[nudge.index]! + nudge.delta;
  return [h2, c2];
}

/**
 * Stack forward in float64: input rows (t, b) at t·B + b (dense X or one-hot ids), state in the
 * project's layout. Returns the top layer's outputs [T·B × H] and the final state.
 */
export function stackForward(
  spec: StackSpec,
  p: Float64Array,
  input: ArrayLike<number>,
  oneHot: boolean,
  state0: ArrayLike<number>,
  T: number,
  B: number,
  nudge: StateNudge | null = null,
): { out: Float64Array; state: Float64Array } {
  const H = spec.hidden;
  const lstm = spec.kind === 'lstm';
  const per = (lstm ? 2 : 1) * B * H;
  const state = Float64Array.from(state0);
  let xs: Float64Array[] = [];
  for (let r = 0; r < T * B; r++) {
    if (oneHot) {
      const v = new Float64Array(spec.inputSize);
      v[input[r]!] = 1;
      xs.push(v);
    } else {
      xs.push(Float64Array.from({ length: spec.inputSize }, (_, j) => input[r * spec.inputSize + j]!));
    }
  }
  let top: Float64Array[] = [];
  for (let k = 0; k < spec.layers; k++) {
    const m = spec.masks?.[k];
    const nx = k === 0 ? spec.inputSize : H;
    const next: Float64Array[] = [];
    top = [];
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const hOff = k * per + b * H;
        const cOff = k * per + B * H + b * H;
        const h = state.slice(hOff, hOff + H);
        const c = lstm ? state.slice(cOff, cOff + H) : new Float64Array(0);
        const mIn = m?.input ? Array.from({ length: nx }, (_, j) => m.input![b * nx + j]!) : null;
        const mRec = m?.recurrent ? Array.from({ length: H }, (_, j) => m.recurrent![b * H + j]!) : null;
        const here = nudge !== null && nudge.layer === k && nudge.t === t && b === 0 ? nudge : null;
        const [h2, c2] = cellStep(spec, p, k, xs[t * B + b]!, h, c, mIn, mRec, here);
        state.set(h2, hOff);
        if (lstm) state.set(c2, cOff);
        top.push(h2);
        // PyTorch's dropout between layers: the next layer reads this output ⊙ its mask.
        next.push(Float64Array.from(masked(h2, m?.output, (t * B + b) * H)));
      }
    }
    xs = next;
  }
  const out = new Float64Array(T * B * H);
  top.forEach((h, r) => out.set(h, r * H));
  return { out, state };
}

export interface CharSpec {
  kind: CellKind;
  variant: GruVariant;
  V: number;
  E: number;
  H: number;
  layers: number;
  onehot: boolean;
  views: ParamView[];
  /** Fixed dropout masks as CharModel.lastDropoutMasks gives them (embedding [T·B × E], output [T·B × H]). */
  masks?: {
    embedding: ArrayLike<number> | null;
    output: ArrayLike<number> | null;
    layers: NonNullable<StackSpec['masks']>;
  };
}

/** Mean cross-entropy of the char model in float64 (and the final state). */
export function charLoss(
  spec: CharSpec,
  p: Float64Array,
  inputs: Int32Array,
  targets: Int32Array,
  state0: ArrayLike<number>,
  T: number,
  B: number,
): { loss: number; state: Float64Array; logits: Float64Array } {
  const { V, E, H } = spec;
  const off = (name: string) => spec.views.find((v) => v.name === name)!.offset;
  let input: ArrayLike<number> = inputs;
  if (!spec.onehot) {
    const emb = new Float64Array(T * B * E);
    const w = off('embedding.weight');
    const mEmb = spec.masks?.embedding;
    for (let r = 0; r < T * B; r++)
      for (let j = 0; j < E; j++) emb[r * E + j] = p[w + inputs[r]! * E + j]! * (mEmb ? mEmb[r * E + j]! : 1);
    input = emb;
  }
  const stack: StackSpec = {
    kind: spec.kind,
    variant: spec.variant,
    inputSize: spec.onehot ? V : E,
    hidden: H,
    layers: spec.layers,
    views: spec.views,
    prefix: 'rnn.',
    ...(spec.masks ? { masks: spec.masks.layers } : {}),
  };
  const { out, state } = stackForward(stack, p, input, spec.onehot, state0, T, B);
  const logits = new Float64Array(T * B * V);
  let loss = 0;
  for (let r = 0; r < T * B; r++) {
    const z = matvec(
      p,
      off('linear.weight'),
      masked(out.subarray(r * H, (r + 1) * H), spec.masks?.output, r * H),
      V,
      H,
      off('linear.bias'),
    );
    logits.set(z, r * V);
    const m = Math.max(...z);
    let s = 0;
    for (const v of z) s += Math.exp(v - m);
    loss += m + Math.log(s) - z[targets[r]!]!;
  }
  return { loss: loss / (T * B), state, logits };
}

/**
 * The char model's cross-entropy at the LAST position only (B = 1): −log softmax(z_{T−1})[target],
 * from `state0`, with an optional state nudge (for ∂L_T/∂h_t by central differences).
 */
export function charLastLoss(
  spec: CharSpec,
  p: Float64Array,
  inputs: Int32Array,
  target: number,
  state0: ArrayLike<number>,
  nudge: StateNudge | null = null,
): number {
  const { V, E, H } = spec;
  const T = inputs.length;
  const off = (name: string) => spec.views.find((v) => v.name === name)!.offset;
  let input: ArrayLike<number> = inputs;
  if (!spec.onehot) {
    const emb = new Float64Array(T * E);
    const w = off('embedding.weight');
    for (let r = 0; r < T; r++) for (let j = 0; j < E; j++) emb[r * E + j] = p[w + inputs[r]! * E + j]!;
    input = emb;
  }
  const stack: StackSpec = {
    kind: spec.kind,
    variant: spec.variant,
    inputSize: spec.onehot ? V : E,
    hidden: H,
    layers: spec.layers,
    views: spec.views,
    prefix: 'rnn.',
  };
  const { out } = stackForward(stack, p, input, spec.onehot, state0, T, 1, nudge);
  const z = matvec(p, off('linear.weight'), out.subarray((T - 1) * H, T * H), V, H, off('linear.bias'));
  const m = Math.max(...z);
  let s = 0;
  for (const v of z) s += Math.exp(v - m);
  return m + Math.log(s) - z[target]!;
}

/** Central difference of f(δ) at δ = 0: (f(eps) − f(−eps)) / 2eps. */
export function centralDiffAt(f: (delta: number) => number, eps = 1e-6): number {
  return (f(eps) - f(-eps)) / (2 * eps);
}

/** Central difference of f at x[i] (x is restored). */
export function centralDiff(f: () => number, x: Float64Array, i: number, eps = 1e-6): number {
  const v = x[i]!;
  x[i] = v + eps;
  const up = f();
  x[i] = v - eps;
  const down = f();
  x[i] = v;
  return (up - down) / (2 * eps);
}

/** Worst |analytic − numeric| / (1 + |numeric|) over all i, with its index. */
export function worstGradError(
  analytic: ArrayLike<number>,
  f: () => number,
  x: Float64Array,
): { err: number; at: number } {
  let err = 0;
  let at = -1;
  for (let i = 0; i < x.length; i++) {
    const fd = centralDiff(f, x, i);
    const e = Math.abs(analytic[i]! - fd) / (1 + Math.abs(fd));
    if (Number.isNaN(e)) return { err: Infinity, at: i };
    if (e > err) {
      err = e;
      at = i;
    }
  }
  return { err, at };
}

/** Deterministic values in [-1, 1) for test inputs (a tiny LCG, independent of the project's Rng). */
export function testValues(n: number, seed: number, scale = 1): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = scale * (s / 2 ** 31 - 1);
  }
  return out;
}
