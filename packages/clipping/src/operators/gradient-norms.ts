// gradientNorms(): the total norm of each gradient set in a stream, for monitoring; reads only, so it
// can tap a gradient stream without changing it. Emits plain numbers (NaN/Infinity pass through).
import type { OperatorFunction } from 'rxjs';
import { map, Observable } from 'rxjs';
import { rethrowAtStep } from '../internal/at-step.js';
import type { Gradients, NormType } from '../internal/gradients.js';
import { checkGradients, checkNormType, totalNorm } from '../internal/gradients.js';

/** Options of the {@link gradientNorms} operator. */
export interface GradientNormsOptions {
  /** 2 (Euclidean norm of all tensors concatenated, float64 accumulation) or Infinity. Default 2. */
  normType?: NormType;
}

/**
 * Emits each gradient set's total norm, the same number clipGradients reports as `totalNorm`.
 * A non-finite gradient yields a non-finite norm (that is what monitoring wants to see, e.g. for
 * detectExplosions); an emission that is not a gradient set errors the stream naming the step.
 * @throws RangeError for a bad normType (at once)
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { gradientNorms } from '@rxrnn/clipping';
 * of(Float32Array.of(3, 4), [Float32Array.of(1), Float32Array.of(-2)])
 *   .pipe(gradientNorms({ normType: Infinity }))
 *   .subscribe((n) => console.log(n)); // 4, then 2
 * ```
 */
export function gradientNorms(options: GradientNormsOptions = {}): OperatorFunction<Gradients, number> {
  const where = 'gradientNorms';
  const normType = checkNormType(where, options.normType ?? 2);
  return (source) =>
    new Observable<number>((subscriber) => {
      let step = 0;
      return source
        .pipe(
          map((grads) => {
            const at = step++;
            try {
              checkGradients(where, grads);
              return totalNorm(grads, normType);
            } catch (err) {
              return rethrowAtStep(err, at);
            }
          }),
        )
        .subscribe(subscriber);
    });
}
