// embed(): token ids → embedding vectors. Input a number (B = 1) or an Int32Array of B ids;
// output a fresh Float32Array `[B×E]` per token that lookup() writes straight into.
import { map, Observable, type OperatorFunction } from 'rxjs';
import type { TokenEmbedding } from './internal/contract-types.js';
import { checkPositiveInt, describe, readTokenIds } from './internal/validate.js';

/** Options of embed(). */
/** Options of the {@link embed} operator. */
export interface EmbedOptions {
  /** Batch rows B: each input is an Int32Array of B ids (or a number when B = 1). Default 1. */
  batch?: number;
}

/**
 * Looks each token id up in `embedding` and emits its vector (length B·E).
 * Errors the stream on an id that is not an integer in [0, vocabSize) or a wrong id count.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { Embedding, embed } from '@rxrnn/cells';
 * const table = new Embedding({ vocabSize: 5, dim: 3, seed: 1 });
 * of(0, 4, 2)
 *   .pipe(embed(table))
 *   .subscribe((v) => console.log(v.length)); // 3 per token
 * ```
 */
export function embed(
  embedding: TokenEmbedding,
  options: EmbedOptions = {},
): OperatorFunction<number | Int32Array, Float32Array> {
  if (typeof embedding !== 'object' || embedding === null || typeof embedding.lookup !== 'function') {
    throw new TypeError(`embed: embedding must be an Embedding, got ${describe(embedding)}`);
  }
  const B = checkPositiveInt('embed', 'batch', options.batch ?? 1);
  const { vocabSize, dim } = embedding;
  return (source) =>
    new Observable<Float32Array>((subscriber) => {
      // Per subscription: the id buffer lookup() reads, and the step counter for messages.
      const ids = new Int32Array(B);
      let step = 0;
      return source
        .pipe(
          map((value) => {
            readTokenIds('embed', value, ids, vocabSize, step);
            const out = new Float32Array(B * dim);
            embedding.lookup(out, ids, B);
            step++;
            return out;
          }),
        )
        .subscribe(subscriber);
    });
}
