// clipGradients(): global-norm clipping over a stream of gradient sets (one Float32Array or a list
// of views per emission). Clips IN PLACE: the emitted `grads` is the very object the source sent.
import type { OperatorFunction } from 'rxjs';
import { map, Observable } from 'rxjs';
import type { GlobalNormResult } from '../clip-by-global-norm.js';
import { globalNormCore } from '../clip-by-global-norm.js';
import { rethrowAtStep } from '../internal/at-step.js';
import type { Gradients, NormType } from '../internal/gradients.js';
import { checkGradients, checkNormType, checkPositive, describe } from '../internal/gradients.js';
import type { NonFinitePolicy } from '../non-finite.js';
import { checkPolicy } from '../non-finite.js';

/** Options of the {@link clipGradients} operator. */
export interface ClipGradientsOptions {
  /** Largest allowed total norm; finite and > 0. Required. */
  maxNorm: number;
  /** 2 or Infinity. Default 2. */
  normType?: NormType;
  /** What to do with NaN/±Inf gradients. Default 'error' (the stream errors; see NonFinitePolicy). */
  nonFinite?: NonFinitePolicy;
}

export interface ClipGradientsEvent<G extends Gradients> extends GlobalNormResult {
  /** 0-based index of this emission within the subscription. */
  readonly step: number;
  /** The source's gradient set, clipped in place (same reference, no copy). */
  readonly grads: G;
}

/**
 * Clips each gradient set by its global norm (PyTorch `clip_grad_norm_` semantics) and emits it
 * with the pre-clip norm and the factor applied. In place because a trainer's gradient buffer is
 * reused every step and copying it would allocate per step; the operator never touches a set again
 * after emitting it. Options are validated here and throw RangeError at once; bad emissions and
 * non-finite gradients under 'error' go to `subscriber.error` naming the step.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { clipGradients } from '@rxrnn/clipping';
 * of([Float32Array.of(3, 4)], [Float32Array.of(0.3, 0.4)]) // gradient sets: lists of tensors
 *   .pipe(clipGradients({ maxNorm: 1 }))
 *   .subscribe((e) => console.log(e.totalNorm, e.clipped, e.grads[0])); // 5 true [≈0.6, ≈0.8], then 0.5 false
 * ```
 */
export function clipGradients<G extends Gradients>(
  options: ClipGradientsOptions,
): OperatorFunction<G, ClipGradientsEvent<G>> {
  const where = 'clipGradients';
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object with maxNorm, got ${describe(options)}`);
  }
  const maxNorm = checkPositive(where, 'maxNorm', options.maxNorm);
  const normType = checkNormType(where, options.normType ?? 2);
  const policy = checkPolicy(where, options.nonFinite ?? 'error');
  return (source) =>
    new Observable<ClipGradientsEvent<G>>((subscriber) => {
      // Steps count per subscription, so every subscriber sees its own step 0.
      let step = 0;
      return source
        .pipe(
          map((grads) => {
            const at = step++;
            try {
              checkGradients(where, grads);
              return { step: at, grads, ...globalNormCore(where, grads, maxNorm, normType, policy) };
            } catch (err) {
              return rethrowAtStep(err, at);
            }
          }),
        )
        .subscribe(subscriber);
    });
}
