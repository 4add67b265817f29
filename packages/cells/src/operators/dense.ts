// dense(): a Dense layer as an operator, x `[B×inSize]` in, logits `[B×outSize]` out.
// Each output is a fresh Float32Array that forward() writes straight into; the layer owns its weights.
import { map, Observable, type OperatorFunction } from 'rxjs';
import type { DenseLayer } from './internal/contract-types.js';
import { checkPositiveInt, checkVector, describe } from './internal/validate.js';

/** Options of dense(). */
/** Options of the {@link dense} operator. */
export interface DenseOptions {
  /** Batch rows B: inputs hold B rows of inSize, outputs B rows of outSize. Default 1. */
  batch?: number;
}

/**
 * Applies `layer` (W x + b) to each input and emits the result, e.g. logits over a vocabulary.
 * Errors the stream on an input of the wrong length or with non-finite values.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { Dense, dense } from '@rxrnn/cells';
 * const head = new Dense({ inSize: 2, outSize: 3, seed: 1 });
 * of(Float32Array.of(1, 0), Float32Array.of(0, 1))
 *   .pipe(dense(head))
 *   .subscribe((logits) => console.log(logits.length)); // 3, 3
 * ```
 */
export function dense(layer: DenseLayer, options: DenseOptions = {}): OperatorFunction<Float32Array, Float32Array> {
  if (typeof layer !== 'object' || layer === null || typeof layer.forward !== 'function') {
    throw new TypeError(`dense: layer must be a Dense layer, got ${describe(layer)}`);
  }
  const B = checkPositiveInt('dense', 'batch', options.batch ?? 1);
  const n = B * layer.inSize;
  return (source) =>
    new Observable<Float32Array>((subscriber) => {
      let step = 0;
      return source
        .pipe(
          map((x) => {
            checkVector('dense', x, n, step);
            const out = new Float32Array(B * layer.outSize);
            layer.forward(out, x, B);
            step++;
            return out;
          }),
        )
        .subscribe(subscriber);
    });
}
