// The Adam / AdamW parameter update as one kernel: the native addon runs it where it is loaded
// (vectors of float64, the same operations in the same order, so the same bits), else the
// TypeScript loop below. The trainer's Adam computes the bias corrections and calls it.
import { activeNative } from './backend.js';
import { checkF32, checkFinite } from './internal/checks.js';

/** adamUpdate's arguments (the public kernel's and the addon's). */
export type AdamArgs = [
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  stepSize: number,
  bc2Sqrt: number,
  beta1: number,
  beta2: number,
  eps: number,
  decay: number,
  l2: number,
];

/**
 * One Adam step in place, per parameter i (in float64; m and v stored as float32):
 * p = params[i]·decay; g = grads[i] + l2·p; m[i] = β1·m[i] + (1 − β1)·g;
 * v[i] = β2·v[i] + (1 − β2)·g·g; params[i] = p − stepSize·m[i] / (√v[i] / bc2Sqrt + eps).
 * With stepSize = lr / (1 − β1^t) and bc2Sqrt = √(1 − β2^t) this is PyTorch's Adam (decay 1,
 * l2 = λ) or AdamW (decay 1 − lr·λ, l2 0). Every backend gives the same bits.
 *
 * @throws RangeError/TypeError when the arrays differ in length or a number is not finite (no
 * array is touched).
 */
export function adamUpdate(
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  stepSize: number,
  bc2Sqrt: number,
  beta1: number,
  beta2: number,
  eps: number,
  decay: number,
  l2: number,
): void {
  const k = 'adamUpdate';
  const n = checkF32(k, 'params', params, (params as Float32Array | undefined)?.length ?? 0, 'its length').length;
  checkF32(k, 'grads', grads, n, 'params.length');
  checkF32(k, 'm', m, n, 'params.length');
  checkF32(k, 'v', v, n, 'params.length');
  const hyper = { stepSize, bc2Sqrt, beta1, beta2, eps, decay, l2 };
  for (const [name, value] of Object.entries(hyper)) checkFinite(k, name, value);
  // A binary built before this kernel existed lacks it: the loop then.
  const native = activeNative();
  if (typeof native?.adamUpdate === 'function') {
    native.adamUpdate(params, grads, m, v, stepSize, bc2Sqrt, beta1, beta2, eps, decay, l2);
    return;
  }
  for (let i = 0; i < n; i++) {
    const p = params[i]! * decay;
    const g = grads[i]! + l2 * p;
    m[i] = beta1 * m[i]! + (1 - beta1) * g;
    v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
    params[i] = p - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
  }
}
