// A cell's forward over a whole window without a tape (inference): the native addon runs it as one
// call (the batch across vector lanes, each step's gates computed from the products' registers),
// every other backend as the per-step composition of the public kernels it replaces.
import { activeNative, allocF32, freeF32 } from './backend.js';
import { gemmABt, gruForward, lstmForward } from './kernels.js';
import { checkSequence, type SequenceOps, type SequenceWindow, sequenceCore } from './reference/sequence.js';

type F = Float32Array;

/** The active backend's kernels, scratch in WASM memory when that backend is active. */
const ACTIVE_OPS: SequenceOps = { gemmABt, lstmForward, gruForward, alloc: allocF32, free: freeF32 };

/**
 * T steps of an LSTM over B rows, keeping nothing for a backward pass: from `state [B × 2H]`
 * (`[h | c]`, advanced in place to the final state) on `x [T·B × nX]` (row `t·B + b` is step t's
 * input of row b), writes every step's h into `out [T·B × H]`. Weights in PyTorch's layout and gate
 * order (i, f, g, o): `Wih [4H × nX]`, `Whh [4H × H]`, `bias [4H]` (b_ih + b_hh).
 *
 * Each step is pre = bias + x_t·Wihᵀ, then + h·Whhᵀ, then the gates of `lstmForward`. The js and
 * wasm backends run exactly that composition of their kernels; the native addon runs the window
 * in one call with the batch across vector lanes, forming every sum in the order of its
 * `gemmABt`, so with more rows than that GEMM's small-batch cut (12 on AVX-512, 6 on AVX2, 3 on
 * the portable build) the outputs have the composition's bits (and a cell's training forward's);
 * with fewer they agree within float32 rounding (~1e-6 relative).
 *
 * @throws RangeError/TypeError when a length does not match the dims, or when `out` or `state`
 * shares memory with another argument (no array is touched).
 * @example
 * ```ts
 * import { lstmSequence } from '@rxrnn/kernels';
 * const H = 2, nX = 1, T = 3, B = 1;
 * const out = new Float32Array(T * B * H), state = new Float32Array(2 * B * H);
 * lstmSequence(out, state, new Float32Array(T * B * nX).fill(1),
 *   new Float32Array(4 * H * nX).fill(0.5), new Float32Array(4 * H * H), new Float32Array(4 * H), T, B, nX, H);
 * ```
 */
export function lstmSequence(
  out: F,
  state: F,
  x: F,
  Wih: F,
  Whh: F,
  bias: F,
  T: number,
  B: number,
  nX: number,
  H: number,
): void {
  const w: SequenceWindow = { out, state, x, Wih, Whh, bias, bHn: null, T, B, nX, H };
  checkSequence('lstmSequence', w);
  if (T === 0 || B === 0 || H === 0) return;
  // A binary built before this kernel existed lacks it: the composition then.
  const native = activeNative();
  if (typeof native?.lstmSequence === 'function') native.lstmSequence(out, state, x, Wih, Whh, bias, T, B, nX, H);
  else sequenceCore(ACTIVE_OPS, w);
}

/**
 * T steps of a reset-after GRU (PyTorch's) over B rows, keeping nothing for a backward pass: from
 * `state [B × H]` (advanced in place) on `x [T·B × nX]`, writes every step's h into
 * `out [T·B × H]`. Weights in PyTorch's layout and gate order (r, z, n): `Wih [3H × nX]`,
 * `Whh [3H × H]`, `bias [3H]` (b_ih + b_hh for r and z, b_in for n) and `bHn [H]` (b_hn, inside
 * r ⊙ (W_hn·h + b_hn)).
 *
 * Each step is xPre = bias + x_t·Wihᵀ and hPre = [0 | 0 | b_hn] + h·Whhᵀ, then the gates of
 * `gruForward`; bits as for `lstmSequence` (the composition's on js and wasm; on native past the
 * small-batch cut too, within float32 rounding below it).
 *
 * @throws RangeError/TypeError when a length does not match the dims, or when `out` or `state`
 * shares memory with another argument (no array is touched).
 */
export function gruSequence(
  out: F,
  state: F,
  x: F,
  Wih: F,
  Whh: F,
  bias: F,
  bHn: F,
  T: number,
  B: number,
  nX: number,
  H: number,
): void {
  const w: SequenceWindow = { out, state, x, Wih, Whh, bias, bHn, T, B, nX, H };
  checkSequence('gruSequence', w);
  if (T === 0 || B === 0 || H === 0) return;
  const native = activeNative();
  if (typeof native?.gruSequence === 'function') native.gruSequence(out, state, x, Wih, Whh, bias, bHn, T, B, nX, H);
  else sequenceCore(ACTIVE_OPS, w);
}
