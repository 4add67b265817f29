// Row-wise softmax, log-softmax and fused softmax cross-entropy over [rows×cols] logits.
// Stable for any finite logits: the row max is subtracted before exp, sums run in float64.
// Used by both backends; the caller owns every buffer (out may alias x).
import { checkDim, checkF32, checkI32 } from '../validate.js';

function checkRows(k: string, out: Float32Array, x: Float32Array, rows: number, cols: number): void {
  checkDim(k, 'rows', rows);
  checkDim(k, 'cols', cols);
  checkF32(k, 'out', out, rows * cols, 'rows*cols');
  checkF32(k, 'x', x, rows * cols, 'rows*cols');
}

/** out = softmax(x / temperature) per row. temperature > 0, default 1. */
export function softmaxRows(out: Float32Array, x: Float32Array, rows: number, cols: number, temperature = 1): void {
  checkRows('softmaxRows', out, x, rows, cols);
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`softmaxRows: temperature must be a finite number > 0, got ${String(temperature)}`);
  }
  const inv = 1 / temperature;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[o + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp((x[o + c]! - m) * inv);
      out[o + c] = e;
      s += e;
    }
    // s >= 1 (the max element contributes exp(0)), so the division is always safe.
    const is = 1 / s;
    for (let c = 0; c < cols; c++) out[o + c] = out[o + c]! * is;
  }
}

/** out = x − logsumexp(x) per row. */
export function logSoftmaxRows(out: Float32Array, x: Float32Array, rows: number, cols: number): void {
  checkRows('logSoftmaxRows', out, x, rows, cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[o + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[o + c]! - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) out[o + c] = x[o + c]! - lse;
  }
}

/**
 * Fused softmax cross-entropy: lossPerRow[r] = logsumexp(logits_r) − logits_r[target_r] (nats),
 * dLogits = softmax(logits) − onehot(targets) (unscaled). Returns the float64 sum of row losses.
 */
export function softmaxCrossEntropy(...args: SoftmaxCEArgs): number {
  softmaxCrossEntropyCheck(...args);
  return softmaxCrossEntropyCore(...args);
}

/** softmaxCrossEntropy's arguments, as the check and the computation below take them. */
export type SoftmaxCEArgs = [
  dLogits: Float32Array,
  lossPerRow: Float32Array,
  logits: Float32Array,
  targets: Int32Array,
  rows: number,
  cols: number,
];

/** The argument checks of softmaxCrossEntropy, shared by every backend (same messages). */
export function softmaxCrossEntropyCheck(...[dLogits, lossPerRow, logits, targets, rows, cols]: SoftmaxCEArgs): void {
  const k = 'softmaxCrossEntropy';
  checkDim(k, 'rows', rows);
  checkDim(k, 'cols', cols);
  checkF32(k, 'dLogits', dLogits, rows * cols, 'rows*cols');
  checkF32(k, 'lossPerRow', lossPerRow, rows, 'rows');
  checkF32(k, 'logits', logits, rows * cols, 'rows*cols');
  checkI32(k, 'targets', targets, rows, 'rows');
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t < 0 || t >= cols) throw new RangeError(`${k}: targets[${r}] = ${t}, expected 0 <= target < cols = ${cols}`);
  }
}

/** softmaxCrossEntropy's computation on checked arguments. */
export function softmaxCrossEntropyCore(...[dLogits, lossPerRow, logits, targets, rows, cols]: SoftmaxCEArgs): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, logits[o + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(logits[o + c]! - m);
    const lse = m + Math.log(s);
    const t = targets[r]!;
    const loss = lse - logits[o + t]!;
    lossPerRow[r] = loss;
    total += loss;
    for (let c = 0; c < cols; c++) dLogits[o + c] = Math.exp(logits[o + c]! - lse);
    dLogits[o + t] = dLogits[o + t]! - 1;
  }
  return total;
}
