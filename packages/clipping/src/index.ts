// @rxrnn/clipping public API: gradient clipping on Float32Array gradient sets (global norm, value,
// per tensor) with a non-finite policy, and RxJS operators for clipping and monitoring streams.

/**
 * Gradient clipping as PyTorch does it (global norm, value, per tensor) with a policy for
 * non-finite gradients, and RxJS operators that clip and watch gradient streams.
 *
 * @module @rxrnn/clipping
 */

export type { GlobalNormOptions, GlobalNormResult } from './clip-by-global-norm.js';
export { CLIP_EPSILON, clipByGlobalNorm } from './clip-by-global-norm.js';
export type { PerTensorOptions, PerTensorResult } from './clip-by-norm.js';
export { clipByNorm } from './clip-by-norm.js';
export type { ValueClipOptions, ValueClipResult } from './clip-by-value.js';
export { clipByValue } from './clip-by-value.js';
export type { Gradients, NonFiniteLocation, NormType } from './internal/gradients.js';
export type { NonFiniteOutcome, NonFinitePolicy } from './non-finite.js';
export { NonFiniteGradientError } from './non-finite.js';
export type { ClipGradientsEvent, ClipGradientsOptions } from './operators/clip-gradients.js';
export { clipGradients } from './operators/clip-gradients.js';
export type { DetectExplosionsOptions, ExplosionVerdict } from './operators/detect-explosions.js';
export { detectExplosions } from './operators/detect-explosions.js';
export type { GradientNormsOptions } from './operators/gradient-norms.js';
export { gradientNorms } from './operators/gradient-norms.js';
