// Reference twin of the fused batch-1 step kernels: exactly the unfused composition (pre seeded
// with the bias, gemv W_ih·x accumulating, gemv W_hh·h accumulating, then the gate pass), which is
// what a cell's step computes with separate kernels. h (and c) are updated in place.
import { checkDim, checkF32 } from '../validate.js';
import { gruForwardCore, lstmForwardCore, rnnForwardCore } from './gates.js';
import { gemv } from './linalg.js';

export function lstmStepCheck(
  h: Float32Array,
  c: Float32Array,
  act: Float32Array,
  pre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  b: Float32Array,
  nX: number,
  H: number,
): void {
  const k = 'lstmStep';
  checkDim(k, 'nX', nX);
  checkDim(k, 'H', H);
  checkF32(k, 'h', h, H, 'H');
  checkF32(k, 'c', c, H, 'H');
  checkF32(k, 'act', act, 4 * H, '4*H');
  checkF32(k, 'pre', pre, 4 * H, '4*H');
  checkF32(k, 'Wih', Wih, 4 * H * nX, '4*H*nX');
  checkF32(k, 'x', x, nX, 'nX');
  checkF32(k, 'Whh', Whh, 4 * H * H, '4*H*H');
  checkF32(k, 'b', b, 4 * H, '4*H');
}

export function lstmStepCore(
  h: Float32Array,
  c: Float32Array,
  act: Float32Array,
  pre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  b: Float32Array,
  nX: number,
  H: number,
): void {
  pre.set(b);
  if (nX > 0) gemv(pre, Wih, x, 4 * H, nX, true);
  gemv(pre, Whh, h, 4 * H, H, true);
  lstmForwardCore(h, c, act, pre, c, 1, H);
}

/**
 * LSTM step, batch 1: pre = b + W_ih·x + W_hh·h [4H] (nX = 0: no input term, b already holds it),
 * act = activated gates; c = f·c + i·g and h = o·tanh(c) in place.
 */
export function lstmStep(
  h: Float32Array,
  c: Float32Array,
  act: Float32Array,
  pre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  b: Float32Array,
  nX: number,
  H: number,
): void {
  lstmStepCheck(h, c, act, pre, Wih, x, Whh, b, nX, H);
  lstmStepCore(h, c, act, pre, Wih, x, Whh, b, nX, H);
}

export function gruStepCheck(
  h: Float32Array,
  act: Float32Array,
  xPre: Float32Array,
  hPre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  bIh: Float32Array,
  bHh: Float32Array,
  nX: number,
  H: number,
): void {
  const k = 'gruStep';
  checkDim(k, 'nX', nX);
  checkDim(k, 'H', H);
  checkF32(k, 'h', h, H, 'H');
  checkF32(k, 'act', act, 3 * H, '3*H');
  checkF32(k, 'xPre', xPre, 3 * H, '3*H');
  checkF32(k, 'hPre', hPre, 3 * H, '3*H');
  checkF32(k, 'Wih', Wih, 3 * H * nX, '3*H*nX');
  checkF32(k, 'x', x, nX, 'nX');
  checkF32(k, 'Whh', Whh, 3 * H * H, '3*H*H');
  checkF32(k, 'bIh', bIh, 3 * H, '3*H');
  checkF32(k, 'bHh', bHh, 3 * H, '3*H');
}

export function gruStepCore(
  h: Float32Array,
  act: Float32Array,
  xPre: Float32Array,
  hPre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  bIh: Float32Array,
  bHh: Float32Array,
  nX: number,
  H: number,
): void {
  xPre.set(bIh);
  if (nX > 0) gemv(xPre, Wih, x, 3 * H, nX, true);
  hPre.set(bHh);
  gemv(hPre, Whh, h, 3 * H, H, true);
  gruForwardCore(h, act, xPre, hPre, h, 1, H);
}

/**
 * GRU reset-after step, batch 1: xPre = b_ih + W_ih·x, hPre = b_hh + W_hh·h [3H] rows [r, z, n]
 * (nX = 0: xPre = b_ih), then gruForward with h updated in place.
 */
export function gruStep(
  h: Float32Array,
  act: Float32Array,
  xPre: Float32Array,
  hPre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  bIh: Float32Array,
  bHh: Float32Array,
  nX: number,
  H: number,
): void {
  gruStepCheck(h, act, xPre, hPre, Wih, x, Whh, bIh, bHh, nX, H);
  gruStepCore(h, act, xPre, hPre, Wih, x, Whh, bIh, bHh, nX, H);
}

export function rnnStepCheck(
  h: Float32Array,
  pre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  b: Float32Array,
  nX: number,
  H: number,
): void {
  const k = 'rnnStep';
  checkDim(k, 'nX', nX);
  checkDim(k, 'H', H);
  checkF32(k, 'h', h, H, 'H');
  checkF32(k, 'pre', pre, H, 'H');
  checkF32(k, 'Wih', Wih, H * nX, 'H*nX');
  checkF32(k, 'x', x, nX, 'nX');
  checkF32(k, 'Whh', Whh, H * H, 'H*H');
  checkF32(k, 'b', b, H, 'H');
}

export function rnnStepCore(
  h: Float32Array,
  pre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  b: Float32Array,
  nX: number,
  H: number,
): void {
  pre.set(b);
  if (nX > 0) gemv(pre, Wih, x, H, nX, true);
  gemv(pre, Whh, h, H, H, true);
  rnnForwardCore(h, pre, 1, H);
}

/** tanh RNN step, batch 1: pre = b + W_ih·x + W_hh·h [H] (nX = 0: b holds the input term), h = tanh(pre) in place. */
export function rnnStep(
  h: Float32Array,
  pre: Float32Array,
  Wih: Float32Array,
  x: Float32Array,
  Whh: Float32Array,
  b: Float32Array,
  nX: number,
  H: number,
): void {
  rnnStepCheck(h, pre, Wih, x, Whh, b, nX, H);
  rnnStepCore(h, pre, Wih, x, Whh, b, nX, H);
}
