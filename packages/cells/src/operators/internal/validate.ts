// Checks of the values a stream delivers to the operators. Everything here runs BEFORE a step
// touches state, so a rejected value leaves the hidden state (and any state handle) as it was.
// Messages follow the shared style with the step appended: "<operator>: <name> must be <what>,
// got <value> at step <t>" (lengths: "<name> length N, expected M at step t"); option checks are
// the shared ones (../../internal/checks.ts), re-exported here for the operators.
import { describe } from '../../internal/checks.js';

export { checkPositiveFinite, checkPositiveInt, checkUnitInterval, describe } from '../../internal/checks.js';

/** Throws unless `x` is a Float32Array of length `n` holding only finite values. */
export function checkVector(
  op: string,
  x: unknown,
  n: number,
  step: number,
  what = 'input',
): asserts x is Float32Array {
  if (!(x instanceof Float32Array)) {
    throw new TypeError(`${op}: ${what} must be a Float32Array, got ${describe(x)} at step ${step}`);
  }
  if (x.length !== n) {
    throw new RangeError(`${op}: ${what} length ${x.length}, expected ${n} at step ${step}`);
  }
  // One pass over the vector; `v - v` is NaN exactly for NaN and ±Infinity.
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v - v !== 0) {
      throw new RangeError(`${op}: ${what}[${i}] must be a finite number, got ${v} at step ${step}`);
    }
  }
}

/**
 * Writes token ids from `value` (a number when B = 1, or an Int32Array of B ids) into `ids`,
 * checking each is an integer in [0, vocabSize).
 */
export function readTokenIds(op: string, value: unknown, ids: Int32Array, vocabSize: number, step: number): void {
  const B = ids.length;
  if (typeof value === 'number') {
    if (B !== 1) {
      throw new TypeError(`${op}: token must be an Int32Array of ${B} ids, got a single id at step ${step}`);
    }
    checkTokenId(op, value, vocabSize, step);
    ids[0] = value;
    return;
  }
  if (!(value instanceof Int32Array)) {
    throw new TypeError(
      `${op}: token must be a number or an Int32Array of ${B} ids, got ${describe(value)} at step ${step}`,
    );
  }
  if (value.length !== B) {
    throw new RangeError(`${op}: token length ${value.length}, expected ${B} at step ${step}`);
  }
  for (let b = 0; b < B; b++) checkTokenId(op, value[b]!, vocabSize, step);
  ids.set(value);
}

function checkTokenId(op: string, id: number, vocabSize: number, step: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new RangeError(`${op}: token id must be an integer in [0, ${vocabSize}), got ${id} at step ${step}`);
  }
}

/** The article for a cell kind as said aloud: "an rnn", "an lstm" (el-es-tee-em), "a gru". */
export function article(word: string): string {
  return /^[aeiourlfhmnsx]/.test(word) ? 'an' : 'a';
}

/**
 * Keeps a state's previous value across one step, so that a step whose result is not finite
 * (float32 overflow from a huge but finite input, or from huge weights) is undone: the operator
 * errors and the state is as it was before the value. One copy and one scan of the state per
 * step, no allocation after construction.
 */
export class StateGuard {
  readonly #op: string;
  readonly #backup: Float32Array;

  constructor(op: string, size: number) {
    this.#op = op;
    this.#backup = new Float32Array(size);
  }

  /** Remembers `state` (call right before the step). */
  save(state: Float32Array): void {
    this.#backup.set(state);
  }

  /** Puts the remembered value back. */
  undo(state: Float32Array): void {
    state.set(this.#backup);
  }

  /**
   * After the step: unless every element of `state` is finite, puts the saved state back and
   * throws a RangeError `<op>: state[i] after the step must be a finite number, got NaN at
   * <unit> <index> (...)`.
   */
  check(state: Float32Array, index: number, unit = 'step'): void {
    // A float64 sum of float32 values cannot overflow, so it is finite exactly when every value
    // is: one branch-free pass (two accumulators, unrolled), the index searched only on failure.
    let s0 = 0;
    let s1 = 0;
    const n = state.length;
    const n4 = n & ~3;
    let i = 0;
    for (; i < n4; i += 4) {
      s0 += state[i]! + state[i + 1]!;
      s1 += state[i + 2]! + state[i + 3]!;
    }
    for (; i < n; i++) s0 += state[i]!;
    const sum = s0 + s1;
    if (sum - sum === 0) return;
    let bad = 0;
    while (bad < n && state[bad]! - state[bad]! === 0) bad++;
    const v = state[bad];
    this.undo(state);
    throw new RangeError(
      `${this.#op}: state[${bad}] after the step must be a finite number, got ${v} at ${unit} ${index} (float32 overflow; the state is left as it was)`,
    );
  }
}
