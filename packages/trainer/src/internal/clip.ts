// The trainer's one call into @rxrnn/clipping: global-norm clipping of the flat gradient buffer
// in place, returning the pre-clip norm (float64) and whether it was scaled. Non-finite
// gradients are left untouched and reported as a non-finite norm: the caller refuses the update.
import { clipByGlobalNorm } from '@rxrnn/clipping';
import { sumSquares } from '@rxrnn/kernels';

export function clipGradients(grads: Float32Array, maxNorm: number | null): { norm: number; clipped: boolean } {
  if (maxNorm === null) return { norm: Math.sqrt(sumSquares(grads, grads.length)), clipped: false };
  const r = clipByGlobalNorm(grads, maxNorm, { nonFinite: 'skip' });
  return { norm: r.totalNorm, clipped: r.clipped };
}
