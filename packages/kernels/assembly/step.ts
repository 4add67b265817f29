// Fused batch-1 streaming steps: both GEMVs and the gate pass in one call, so a cell's step
// crosses from JS into WASM once. Every sum is formed in exactly the order of the unfused path
// (bias-seeded gemv with acc, then the W_hh gemv accumulating on top, then the gate kernel), so
// results are bitwise those of gemv + gemv + lstmForward/gruForward/rnnForward. h (and c) are
// read by the GEMV first and only then overwritten, so the state is updated in place.
import { gemvAdd } from './linalg';
import { gruForward, lstmForward, rnnForward } from './gates';

/** LSTM, B = 1: pre = b + W_ih x + W_hh h; act = gates; c = f·c + i·g, h = o·tanh(c) in place. */
export function lstmStep(h: usize, c: usize, act: usize, pre: usize, Wih: usize, x: usize, Whh: usize, b: usize, nX: i32, H: i32): void {
  const rows = 4 * H;
  if (nX > 0) gemvAdd(pre, Wih, x, rows, nX, 1, b);
  else memory.copy(pre, b, <usize>rows << 2);
  gemvAdd(pre, Whh, h, rows, H, 1, pre);
  lstmForward(h, c, act, pre, c, 1, H);
}

/** GRU reset-after, B = 1: xPre = b_ih + W_ih x, hPre = b_hh + W_hh h; gate pass; h in place. */
export function gruStep(h: usize, act: usize, xPre: usize, hPre: usize, Wih: usize, x: usize, Whh: usize, bIh: usize, bHh: usize, nX: i32, H: i32): void {
  const rows = 3 * H;
  if (nX > 0) gemvAdd(xPre, Wih, x, rows, nX, 1, bIh);
  else memory.copy(xPre, bIh, <usize>rows << 2);
  gemvAdd(hPre, Whh, h, rows, H, 1, bHh);
  gruForward(h, act, xPre, hPre, h, 1, H);
}

/** tanh RNN, B = 1: pre = b + W_ih x + W_hh h; h = tanh(pre) in place. */
export function rnnStep(h: usize, pre: usize, Wih: usize, x: usize, Whh: usize, b: usize, nX: i32, H: i32): void {
  if (nX > 0) gemvAdd(pre, Wih, x, H, nX, 1, b);
  else memory.copy(pre, b, <usize>H << 2);
  gemvAdd(pre, Whh, h, H, H, 1, pre);
  rnnForward(h, pre, 1, H);
}
