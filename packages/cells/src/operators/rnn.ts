// rnn(): a tanh RNN cell as an RxJS operator, x `[B×n_x]` in, h `[B×H]` out (fresh copies).
// State ownership and validation live in ./internal/recurrent.ts, shared with the other cells.
import type { OperatorFunction } from 'rxjs';
import type { StepCell } from './internal/contract-types.js';
import { type RecurrentOptions, recurrent } from './internal/recurrent.js';

/**
 * Steps a tanh RNN cell once per input and emits its hidden state h (a copy, length B·H).
 * Each subscription starts from a zero state unless `options.state` holds a state handle.
 * Errors the stream (state untouched) on an input of the wrong length or with non-finite values,
 * and when a finite input makes the step overflow float32 (a non-finite state): that step is undone.
 * @throws TypeError if `cell` is not an 'rnn' cell.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { createStateHandle, RnnCell, rnn } from '@rxrnn/cells';
 * const cell = new RnnCell({ inputSize: 2, hiddenSize: 3, seed: 1 });
 * const handle = createStateHandle(cell); // the state outlives the subscription
 * of(Float32Array.of(1, 0)).pipe(rnn(cell, { state: handle })).subscribe();
 * of(Float32Array.of(0, 1)).pipe(rnn(cell, { state: handle })).subscribe((h) => console.log(h));
 * console.log(handle.state); // h after both inputs
 * ```
 */
export function rnn(cell: StepCell, options?: RecurrentOptions): OperatorFunction<Float32Array, Float32Array> {
  return recurrent('rnn', cell, options);
}
