// lstm(): an LSTM cell as an RxJS operator, x `[B×n_x]` in, h `[B×H]` out (fresh copies).
// State ownership and validation live in ./internal/recurrent.ts, shared with the other cells.
import type { OperatorFunction } from 'rxjs';
import type { StepCell } from './internal/contract-types.js';
import { type RecurrentOptions, recurrent } from './internal/recurrent.js';

/**
 * Steps an LSTM cell once per input and emits its hidden state h (a copy, length B·H).
 * Each subscription starts from a zero state unless `options.state` holds a state handle.
 * Errors the stream (state untouched) on an input of the wrong length or with non-finite values,
 * and when a finite input makes the step overflow float32 (a non-finite state): that step is undone.
 * @throws TypeError if `cell` is not an 'lstm' cell.
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { LstmCell, lstm } from '@rxrnn/cells';
 * const cell = new LstmCell({ inputSize: 2, hiddenSize: 3, seed: 1 });
 * from([Float32Array.of(1, 0), Float32Array.of(0, 1)])
 *   .pipe(lstm(cell)) // one step per input, the state kept between them
 *   .subscribe((h) => console.log(h)); // two Float32Arrays of H = 3
 * ```
 */
export function lstm(cell: StepCell, options?: RecurrentOptions): OperatorFunction<Float32Array, Float32Array> {
  return recurrent('lstm', cell, options);
}
