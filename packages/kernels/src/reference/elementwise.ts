// Elementwise kernels and bias add: out[n] from x[n]; out may alias x. Used by both backends
// (V8 runs these memory-bound loops about as fast as WASM would). The caller owns the buffers.
import { checkDim, checkF32, checkFinite } from '../validate.js';

/** out = 1 / (1 + exp(−x)). */
export function sigmoid(out: Float32Array, x: Float32Array, n: number): void {
  checkDim('sigmoid', 'n', n);
  checkF32('sigmoid', 'out', out, n, 'n');
  checkF32('sigmoid', 'x', x, n, 'n');
  for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]!));
}

/** out = tanh(x). */
export function tanh(out: Float32Array, x: Float32Array, n: number): void {
  checkDim('tanh', 'n', n);
  checkF32('tanh', 'out', out, n, 'n');
  checkF32('tanh', 'x', x, n, 'n');
  for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!);
}

/** out = y·(1 − y), the sigmoid derivative from its output y. */
export function sigmoidGrad(out: Float32Array, y: Float32Array, n: number): void {
  checkDim('sigmoidGrad', 'n', n);
  checkF32('sigmoidGrad', 'out', out, n, 'n');
  checkF32('sigmoidGrad', 'y', y, n, 'n');
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    out[i] = v * (1 - v);
  }
}

/** out = 1 − y², the tanh derivative from its output y. */
export function tanhGrad(out: Float32Array, y: Float32Array, n: number): void {
  checkDim('tanhGrad', 'n', n);
  checkF32('tanhGrad', 'out', out, n, 'n');
  checkF32('tanhGrad', 'y', y, n, 'n');
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    out[i] = 1 - v * v;
  }
}

/** out[rows×cols] += bias[cols] on every row. */
export function addBias(out: Float32Array, bias: Float32Array, rows: number, cols: number): void {
  checkDim('addBias', 'rows', rows);
  checkDim('addBias', 'cols', cols);
  checkF32('addBias', 'out', out, rows * cols, 'rows*cols');
  checkF32('addBias', 'bias', bias, cols, 'cols');
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[o + c] = out[o + c]! + bias[c]!;
  }
}

/** x *= alpha, in place. */
export function scale(x: Float32Array, alpha: number, n: number): void {
  checkDim('scale', 'n', n);
  checkFinite('scale', 'alpha', alpha);
  checkF32('scale', 'x', x, n, 'n');
  for (let i = 0; i < n; i++) x[i] = x[i]! * alpha;
}

/** y += alpha · x. */
export function axpy(y: Float32Array, alpha: number, x: Float32Array, n: number): void {
  checkDim('axpy', 'n', n);
  checkFinite('axpy', 'alpha', alpha);
  checkF32('axpy', 'y', y, n, 'n');
  checkF32('axpy', 'x', x, n, 'n');
  for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * x[i]!;
}

/** out[0..n) = value (also the zeros/constant initializer). */
export function fill(out: Float32Array, value: number, n: number): void {
  checkDim('fill', 'n', n);
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new RangeError(`fill: value must be a number, got ${String(value)}`);
  }
  checkF32('fill', 'out', out, n, 'n');
  out.fill(value);
}
