// gru(): a GRU cell as an RxJS operator, x `[B×n_x]` in, h `[B×H]` out (fresh copies).
// State ownership and validation live in ./internal/recurrent.ts, shared with the other cells.
import type { OperatorFunction } from 'rxjs';
import type { StepCell } from './internal/contract-types.js';
import { type RecurrentOptions, recurrent } from './internal/recurrent.js';

/**
 * Steps a GRU cell once per input and emits its hidden state h (a copy, length B·H).
 * Each subscription starts from a zero state unless `options.state` holds a state handle.
 * Errors the stream (state untouched) on an input of the wrong length or with non-finite values,
 * and when a finite input makes the step overflow float32 (a non-finite state): that step is undone.
 * @throws TypeError if `cell` is not a 'gru' cell.
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { GruCell, gru } from '@rxrnn/cells';
 * const cell = new GruCell({ inputSize: 2, hiddenSize: 3, seed: 1 });
 * from([Float32Array.of(1, 0, 0, 1)]) // B = 2 rows per emission
 *   .pipe(gru(cell, { batch: 2 }))
 *   .subscribe((h) => console.log(h.length)); // B·H = 6
 * ```
 */
export function gru(cell: StepCell, options?: RecurrentOptions): OperatorFunction<Float32Array, Float32Array> {
  return recurrent('gru', cell, options);
}
