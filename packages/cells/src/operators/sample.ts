// sample(): logits `[B×V]` → token ids, with temperature, top-k and top-p (nucleus) filtering.
// Each subscription draws from its own seeded Rng and owns its scratch (./internal/sampling.ts).
import { map, Observable, type OperatorFunction } from 'rxjs';
import { resolveSampling, Sampler, type SamplingOptions } from './internal/sampling.js';
import { checkPositiveInt, describe } from './internal/validate.js';

/** Options of sample(): see SamplingOptions for temperature, topK, topP and seed. */
/** Options of the {@link sample} operator: the sampling settings plus the shape of the logits. */
export interface SampleOptions extends SamplingOptions {
  /**
   * Vocabulary size V: each input holds B rows of V logits. Default: the input length / B,
   * fixed by the first value of each subscription.
   */
  vocabSize?: number;
  /**
   * Batch rows B. When given, each input holds B rows and each output is an Int32Array of B ids;
   * when absent, one row and a plain number per step. Default: absent.
   */
  batch?: number;
}

/**
 * Draws one token id per row of logits. Without `batch` it emits a number (one row); with
 * `batch: B` it emits an Int32Array of B ids (a fresh array per step).
 * Errors the stream on non-finite logits or a length that does not match. Each subscription draws
 * from its own seeded generator: the same seed gives the same tokens.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { sample } from '@rxrnn/cells';
 * of(Float32Array.of(2, 0, -1), Float32Array.of(0, 3, 0))
 *   .pipe(sample({ temperature: 0.5, seed: 1 }))
 *   .subscribe((id) => console.log(id)); // one id in [0, 3) per row of logits
 * ```
 */
export function sample(options: SampleOptions & { batch: number }): OperatorFunction<Float32Array, Int32Array>;
export function sample(options?: SampleOptions & { batch?: undefined }): OperatorFunction<Float32Array, number>;
export function sample(options?: SampleOptions): OperatorFunction<Float32Array, number | Int32Array>;
export function sample(options: SampleOptions = {}): OperatorFunction<Float32Array, number | Int32Array> {
  const sampling = resolveSampling('sample', options);
  const batched = options.batch !== undefined;
  const B = checkPositiveInt('sample', 'batch', options.batch ?? 1);
  const fixedV =
    options.vocabSize === undefined ? undefined : checkPositiveInt('sample', 'vocabSize', options.vocabSize);
  return (source) =>
    new Observable<number | Int32Array>((subscriber) => {
      // Per subscription: a fresh Rng (same seed → same tokens) made on the first logits.
      let sampler: Sampler | undefined;
      let step = 0;
      const ids = new Int32Array(B);
      return source
        .pipe(
          map((logits): number | Int32Array => {
            if (sampler === undefined) {
              let V = fixedV;
              if (V === undefined) {
                // V is free, but the rows must be non-empty and all of one width.
                if (!(logits instanceof Float32Array) || logits.length === 0 || logits.length % B !== 0) {
                  const got = logits instanceof Float32Array ? `length ${logits.length}` : describe(logits);
                  throw new RangeError(
                    `sample: logits must be a Float32Array of ${B} non-empty rows, got ${got} at step ${step}`,
                  );
                }
                V = logits.length / B;
              }
              sampler = new Sampler('sample', sampling, B, V);
            }
            // Validates the logits before the Rng moves, so a bad value costs no random draw.
            sampler.sampleInto(ids, logits, step);
            step++;
            return batched ? ids.slice() : ids[0]!;
          }),
        )
        .subscribe(subscriber);
    });
}
