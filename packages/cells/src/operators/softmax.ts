// softmax(): logits `[B×V]` → probabilities `[B×V]` (each row sums to 1), via kernels' softmaxRows.
// V is each input's length / B; each output is a fresh Float32Array.
import { softmaxRows } from '@rxrnn/kernels';
import { map, Observable, type OperatorFunction } from 'rxjs';
import { checkPositiveFinite, checkPositiveInt, checkVector, describe } from './internal/validate.js';

/** Options of softmax(). */
/** Options of the {@link softmax} operator. */
export interface SoftmaxOptions {
  /** Divides the logits first: < 1 sharpens, > 1 flattens. A finite number > 0. Default 1. */
  temperature?: number;
  /** Batch rows B: each input holds B rows of logits, each normalized on its own. Default 1. */
  batch?: number;
}

/**
 * Emits `softmax(logits / temperature)` per row: `p_i = exp(z_i/τ) / Σ_j exp(z_j/τ)`, computed
 * stably (the row maximum subtracted first). Errors the stream on non-finite logits.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { softmax } from '@rxrnn/cells';
 * of(Float32Array.of(1, 2, 3))
 *   .pipe(softmax())
 *   .subscribe((p) => console.log(p)); // ≈ [0.09, 0.245, 0.665]
 * ```
 */
export function softmax(options: SoftmaxOptions = {}): OperatorFunction<Float32Array, Float32Array> {
  const temperature = checkPositiveFinite('softmax', 'temperature', options.temperature ?? 1);
  const B = checkPositiveInt('softmax', 'batch', options.batch ?? 1);
  return (source) =>
    new Observable<Float32Array>((subscriber) => {
      let step = 0;
      return source
        .pipe(
          map((x) => {
            // V is free, but every row must have the same, non-zero width.
            if (!(x instanceof Float32Array) || x.length === 0 || x.length % B !== 0) {
              const got = x instanceof Float32Array ? `length ${x.length}` : describe(x);
              throw new RangeError(
                `softmax: input must be a Float32Array of ${B} non-empty rows, got ${got} at step ${step}`,
              );
            }
            checkVector('softmax', x, x.length, step);
            const out = new Float32Array(x.length);
            softmaxRows(out, x, B, x.length / B, temperature);
            step++;
            return out;
          }),
        )
        .subscribe(subscriber);
    });
}
