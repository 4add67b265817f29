// Reductions over x[n]: float64 accumulation so norms and loss sums decide correctly even for
// long vectors. Used by both backends; nothing is written.
import { checkDim, checkF32 } from '../validate.js';

/** Σ x², accumulated in float64. */
export function sumSquares(x: Float32Array, n: number): number {
  checkDim('sumSquares', 'n', n);
  checkF32('sumSquares', 'x', x, n, 'n');
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]! * x[i]!;
  return s;
}

/** max |x| (0 for n = 0; NaN if any element is NaN, so callers can detect non-finite input). */
export function maxAbs(x: Float32Array, n: number): number {
  checkDim('maxAbs', 'n', n);
  checkF32('maxAbs', 'x', x, n, 'n');
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]!);
    // A NaN anywhere decides the answer: stop there, or a later finite value would hide it.
    if (Number.isNaN(a)) return NaN;
    if (a > m) m = a;
  }
  return m;
}

/** Σ x·y, accumulated in float64. */
export function dot(x: Float32Array, y: Float32Array, n: number): number {
  checkDim('dot', 'n', n);
  checkF32('dot', 'x', x, n, 'n');
  checkF32('dot', 'y', y, n, 'n');
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]! * y[i]!;
  return s;
}
