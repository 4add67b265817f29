// clipByNorm: per-tensor norm clipping (Keras `clipnorm`, tf.clip_by_norm), in place: each tensor
// is scaled by its own L2 norm, independently of the others. The caller owns `grads`.
import { scale, sumSquares } from '@rxrnn/kernels';
import type { Gradients } from './internal/gradients.js';
import { checkGradients, checkPositive, tensorAt, tensorCount } from './internal/gradients.js';
import type { NonFiniteOutcome, NonFinitePolicy } from './non-finite.js';
import { applyPolicy, checkPolicy, FINITE } from './non-finite.js';

/** Options of {@link clipByNorm}. */
export interface PerTensorOptions {
  /** What to do with NaN/±Inf gradients; see {@link NonFinitePolicy}. Default 'error'. */
  nonFinite?: NonFinitePolicy;
}

export interface PerTensorResult extends NonFiniteOutcome {
  /** Each tensor's L2 norm BEFORE clipping, in list order (float64 accumulation). */
  readonly norms: Float64Array;
  /** Each tensor's factor: maxNorm / max(norm, maxNorm) (1 for tensors within the limit). */
  readonly scales: Float64Array;
  /** How many tensors were scaled down. */
  readonly clippedCount: number;
  /** True when at least one tensor was scaled down. */
  readonly clipped: boolean;
}

/**
 * Scales each tensor whose L2 norm exceeds maxNorm down to norm maxNorm, in place, leaving the
 * others alone: g ← g · maxNorm / max(‖g‖, maxNorm), the rule of tf.clip_by_norm behind Keras's
 * `clipnorm`. Porting note: unlike clipByGlobalNorm there is no 1e-6 guard (Keras has none); a zero
 * tensor has norm 0 ≤ maxNorm and is never divided by.
 */
export function clipByNorm(grads: Gradients, maxNorm: number, options: PerTensorOptions = {}): PerTensorResult {
  const where = 'clipByNorm';
  checkGradients(where, grads);
  checkPositive(where, 'maxNorm', maxNorm);
  const policy = checkPolicy(where, options.nonFinite ?? 'error');
  const count = tensorCount(grads);
  const norms = new Float64Array(count);
  const scales = new Float64Array(count).fill(1);
  // Measure everything first: under 'skip' no tensor may be scaled before a later one turns out bad.
  let finite = true;
  for (let t = 0; t < count; t++) {
    const g = tensorAt(grads, t);
    norms[t] = Math.sqrt(sumSquares(g, g.length));
    if (!Number.isFinite(norms[t]!)) finite = false;
  }
  if (!finite) {
    const outcome = applyPolicy(where, grads, policy);
    if (outcome.zeroed) scales.fill(0);
    return { norms, scales, clippedCount: 0, clipped: false, ...outcome };
  }
  let clippedCount = 0;
  for (let t = 0; t < count; t++) {
    if (norms[t]! <= maxNorm) continue;
    const g = tensorAt(grads, t);
    scales[t] = maxNorm / norms[t]!;
    scale(g, scales[t]!, g.length);
    clippedCount++;
  }
  return { norms, scales, clippedCount, clipped: clippedCount > 0, ...FINITE };
}
