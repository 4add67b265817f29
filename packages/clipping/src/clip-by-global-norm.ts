// clipByGlobalNorm: PyTorch's clip_grad_norm_ on float32 gradients, in place. One norm over all
// tensors together (float64 accumulation), one coefficient for all. The caller owns `grads`.
import { scale } from '@rxrnn/kernels';
import type { Gradients, NormType } from './internal/gradients.js';
import {
  checkGradients,
  checkNormType,
  checkPositive,
  tensorAt,
  tensorCount,
  totalNorm,
} from './internal/gradients.js';
import type { NonFiniteOutcome, NonFinitePolicy } from './non-finite.js';
import { applyPolicy, checkPolicy, FINITE } from './non-finite.js';

/** PyTorch's guard in clip_coef = maxNorm / (totalNorm + 1e-6): all-zero gradients stay zero. */
export const CLIP_EPSILON = 1e-6;

/** Options of {@link clipByGlobalNorm}. */
export interface GlobalNormOptions {
  /** 2 (Euclidean norm of all gradients concatenated) or Infinity (max |g|). Default 2. */
  normType?: NormType;
  /** What to do with NaN/±Inf gradients; see {@link NonFinitePolicy}. Default 'error'. */
  nonFinite?: NonFinitePolicy;
}

export interface GlobalNormResult extends NonFiniteOutcome {
  /** The norm BEFORE clipping (NaN or Infinity when a non-finite gradient was found). */
  readonly totalNorm: number;
  /** The factor the gradients were multiplied by: min(1, maxNorm / (totalNorm + 1e-6)); 1 when skipped, 0 when zeroed. */
  readonly scale: number;
  /** True when the norm rule scaled the gradients down (scale < 1). */
  readonly clipped: boolean;
}

/**
 * Scales every gradient in place by min(1, maxNorm / (totalNorm + 1e-6)), exactly as PyTorch's
 * `clip_grad_norm_`: the clipped norm ends slightly below maxNorm, and all-zero gradients stay 0.
 * Throws RangeError for a maxNorm that is not finite and > 0, TypeError for non-Float32Array input.
 * @example
 * ```ts
 * import { clipByGlobalNorm } from '@rxrnn/clipping';
 * const dW = Float32Array.of(3, 0), db = Float32Array.of(4);
 * const r = clipByGlobalNorm([dW, db], 1); // the norm of both together is 5
 * console.log(r.totalNorm, r.clipped, dW, db); // 5 true [≈0.6, 0] [≈0.8]
 * ```
 */
export function clipByGlobalNorm(grads: Gradients, maxNorm: number, options: GlobalNormOptions = {}): GlobalNormResult {
  const where = 'clipByGlobalNorm';
  checkGradients(where, grads);
  checkPositive(where, 'maxNorm', maxNorm);
  const normType = checkNormType(where, options.normType ?? 2);
  const policy = checkPolicy(where, options.nonFinite ?? 'error');
  return globalNormCore(where, grads, maxNorm, normType, policy);
}

/** The unchecked core, shared with the clipGradients operator (which validates its options once). */
export function globalNormCore(
  where: string,
  grads: Gradients,
  maxNorm: number,
  normType: NormType,
  policy: NonFinitePolicy,
): GlobalNormResult {
  const norm = totalNorm(grads, normType);
  if (!Number.isFinite(norm)) {
    // PyTorch would multiply by a NaN coefficient here and poison every gradient; a policy decides instead.
    const outcome = applyPolicy(where, grads, policy);
    return { totalNorm: norm, scale: outcome.zeroed ? 0 : 1, clipped: false, ...outcome };
  }
  const coef = maxNorm / (norm + CLIP_EPSILON);
  // Not clipping means PyTorch multiplies by exactly 1.0, which changes no float: skip the pass.
  if (coef >= 1) return { totalNorm: norm, scale: 1, clipped: false, ...FINITE };
  const count = tensorCount(grads);
  for (let i = 0; i < count; i++) {
    const g = tensorAt(grads, i);
    scale(g, coef, g.length);
  }
  return { totalNorm: norm, scale: coef, clipped: true, ...FINITE };
}
