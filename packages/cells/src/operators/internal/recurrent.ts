// The one implementation behind rnn(), gru() and lstm(): inputs x `[B×n_x]` in, h `[B×H]` out.
// The hidden state is per subscription (created on subscribe) unless a StateHandle is passed,
// whose buffer it then advances in place; every emitted h is a fresh copy the operator never touches.
// A step is all or nothing: a bad input, or a step whose result is not finite, leaves the state as it was.
import { map, Observable, type OperatorFunction } from 'rxjs';
import { checkHandleFits, type StateHandle } from '../../state-handle.js';
import type { CellKind, StepCell } from './contract-types.js';
import { article, checkPositiveInt, checkVector, describe, StateGuard } from './validate.js';

/** Options of rnn(), gru() and lstm(). */
export interface RecurrentOptions {
  /**
   * Batch rows B: each input holds B rows of n_x (length B·n_x), each output B rows of H.
   * Default: the state handle's batch if one is given, else 1.
   */
  batch?: number;
  /**
   * A state handle (createStateHandle(cell, B)) to advance instead of a fresh per-subscription
   * state, so the state persists across subscriptions or is shared between them.
   * Default: none — each subscription starts from zeros.
   */
  state?: StateHandle;
}

export function recurrent(
  op: CellKind,
  cell: StepCell,
  options: RecurrentOptions = {},
): OperatorFunction<Float32Array, Float32Array> {
  if (typeof cell !== 'object' || cell === null || typeof cell.step !== 'function') {
    throw new TypeError(`${op}: cell must be ${article(op)} ${op} cell, got ${describe(cell)}`);
  }
  // A GRU fed to lstm() would run, emit the wrong widths and fail far from the cause.
  if (cell.kind !== op) {
    const got = typeof cell.kind === 'string' ? `${article(cell.kind)} ${cell.kind}` : describe(cell.kind);
    throw new TypeError(`${op}: cell must be ${article(op)} ${op} cell, got ${got} cell`);
  }
  const handle = options.state;
  const B = checkPositiveInt(op, 'batch', options.batch ?? handle?.batch ?? 1);
  if (handle !== undefined) checkHandleFits(op, handle, cell, B);
  const n = B * cell.inputSize;

  return (source) =>
    new Observable<Float32Array>((subscriber) => {
      // Per subscription: its own state (or the shared handle's) and its own step counter.
      const state = handle ? handle.state : cell.createState(B);
      const guard = new StateGuard(op, state.length);
      let step = 0;
      return source
        .pipe(
          map((x) => {
            // Validate before stepping so a bad value leaves the state as it was; a finite input
            // whose step overflows float32 is undone by the guard.
            checkVector(op, x, n, step);
            guard.save(state);
            const h = cell.step(state, x, B);
            guard.check(state, step);
            step++;
            // h is a view of the state the next step overwrites: hand out a copy.
            return h.slice();
          }),
        )
        .subscribe(subscriber);
    });
}
