// Fused batch-1 streaming steps: both GEMVs and the gate pass in one call, so a cell's step
// crosses from JS into WASM once. Every sum is formed in exactly the order of the unfused path
// (bias-seeded gemv with acc, then the W_hh gemv accumulating on top, then the gate kernel), so
// results are bitwise those of gemv + gemv + lstmForward/gruForward/rnnForward. h (and c) are
// read by the GEMV first and only then overwritten, so the state is updated in place.

import { gruForward, lstmForward, rnnForward } from './gates';
import { gemvAdd } from './linalg';

/** LSTM, B = 1: pre = b + W_ih x + W_hh h; act = gates; c = f·c + i·g, h = o·tanh(c) in place. */
export function lstmStep(
  h: usize,
  c: usize,
  act: usize,
  pre: usize,
  Wih: usize,
  x: usize,
  Whh: usize,
  b: usize,
  nX: i32,
  H: i32,
): void {
  const rows = 4 * H;
  if (nX > 0) gemvAdd(pre, Wih, x, rows, nX, 1, b);
  else memory.copy(pre, b, (<usize>rows) << 2);
  gemvAdd(pre, Whh, h, rows, H, 1, pre);
  lstmForward(h, c, act, pre, c, 1, H);
}

/** GRU reset-after, B = 1: xPre = b_ih + W_ih x, hPre = b_hh + W_hh h; gate pass; h in place. */
export function gruStep(
  h: usize,
  act: usize,
  xPre: usize,
  hPre: usize,
  Wih: usize,
  x: usize,
  Whh: usize,
  bIh: usize,
  bHh: usize,
  nX: i32,
  H: i32,
): void {
  const rows = 3 * H;
  if (nX > 0) gemvAdd(xPre, Wih, x, rows, nX, 1, bIh);
  else memory.copy(xPre, bIh, (<usize>rows) << 2);
  gemvAdd(hPre, Whh, h, rows, H, 1, bHh);
  gruForward(h, act, xPre, hPre, h, 1, H);
}

/** tanh RNN, B = 1: pre = b + W_ih x + W_hh h; h = tanh(pre) in place. */
export function rnnStep(h: usize, pre: usize, Wih: usize, x: usize, Whh: usize, b: usize, nX: i32, H: i32): void {
  if (nX > 0) gemvAdd(pre, Wih, x, H, nX, 1, b);
  else memory.copy(pre, b, (<usize>H) << 2);
  gemvAdd(pre, Whh, h, H, H, 1, pre);
  rnnForward(h, pre, 1, H);
}

/**
 * Rows [r0, r1) of a step's two products: y1 = s1 + A1·v1 (c1 = 0: y1 = s1), then
 * y2 = s2 + A2·v2, where s2 may be y1 (LSTM, RNN) — the per-row work of the steps above, for the
 * helper thread that shares a step's rows (src/step-threads.ts). With r0 a multiple of six every
 * row goes through the same six-row block of gemvAdd as in the whole-matrix call, so the sums are
 * bitwise those of lstmStep/gruStep/rnnStep.
 */
export function stepRows(
  y1: usize,
  s1: usize,
  A1: usize,
  v1: usize,
  c1: i32,
  y2: usize,
  s2: usize,
  A2: usize,
  v2: usize,
  c2: i32,
  r0: i32,
  r1: i32,
): void {
  const n = r1 - r0;
  const o = (<usize>r0) << 2;
  if (c1 > 0) gemvAdd(y1 + o, A1 + <usize>r0 * ((<usize>c1) << 2), v1, n, c1, 1, s1 + o);
  else memory.copy(y1 + o, s1 + o, (<usize>n) << 2);
  gemvAdd(y2 + o, A2 + <usize>r0 * ((<usize>c2) << 2), v2, n, c2, 1, s2 + o);
}

/** dst[0, n) = src[0, n): the step helper's rows, copied from its scratch into the outputs. */
export function copyF32(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, (<usize>n) << 2);
}

/** dst[0, n) += src[0, n): a helper's GEMM rows added into an accumulating output. */
export function addF32(dst: usize, src: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++)
    store<f32>(dst + ((<usize>i) << 2), load<f32>(dst + ((<usize>i) << 2)) + load<f32>(src + ((<usize>i) << 2)));
}
