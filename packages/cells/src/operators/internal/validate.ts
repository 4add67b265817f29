// Input and option checks shared by the operators. Everything here runs BEFORE a step touches
// state, so a rejected value leaves the hidden state (and any state handle) exactly as it was.
// Messages follow "<operator>: <what arrived>, expected <what> at step <t>".

/** Throws unless `x` is a Float32Array of length `n` holding only finite values. */
export function checkVector(
  op: string,
  x: unknown,
  n: number,
  step: number,
  what = 'input',
): asserts x is Float32Array {
  if (!(x instanceof Float32Array)) {
    throw new TypeError(`${op}: ${what} is ${describe(x)}, expected a Float32Array at step ${step}`);
  }
  if (x.length !== n) {
    throw new RangeError(`${op}: ${what} length ${x.length}, expected ${n} at step ${step}`);
  }
  // One pass over the vector; `v - v` is NaN exactly for NaN and ±Infinity.
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v - v !== 0) {
      throw new RangeError(`${op}: ${what}[${i}] is ${v}, expected a finite number at step ${step}`);
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
      throw new TypeError(`${op}: got a single token id, expected an Int32Array of ${B} ids at step ${step}`);
    }
    checkTokenId(op, value, vocabSize, step);
    ids[0] = value;
    return;
  }
  if (!(value instanceof Int32Array)) {
    throw new TypeError(
      `${op}: token is ${describe(value)}, expected a number or an Int32Array of ${B} ids at step ${step}`,
    );
  }
  if (value.length !== B) {
    throw new RangeError(`${op}: ${value.length} token ids, expected ${B} at step ${step}`);
  }
  for (let b = 0; b < B; b++) checkTokenId(op, value[b]!, vocabSize, step);
  ids.set(value);
}

function checkTokenId(op: string, id: number, vocabSize: number, step: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new RangeError(`${op}: token id ${id}, expected an integer in [0, ${vocabSize}) at step ${step}`);
  }
}

/** Option check: an integer ≥ 1 (batch sizes, topK). */
export function checkPositiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`${op}: ${name} ${describe(v)}, expected an integer >= 1`);
  }
  return v;
}

/** Option check: a finite number > 0 (temperature). */
export function checkPositiveFinite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new RangeError(`${op}: ${name} ${describe(v)}, expected a finite number > 0`);
  }
  return v;
}

/** Option check: a number in (0, 1] (topP). */
export function checkUnitInterval(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) {
    throw new RangeError(`${op}: ${name} ${describe(v)}, expected a number in (0, 1]`);
  }
  return v;
}

/** A short, safe description of an arbitrary value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name ?? 'object';
    return `${/^[AEIOU]/i.test(name) ? 'an' : 'a'} ${name}`;
  }
  return typeof v;
}

/** The article for a cell kind as said aloud: "an rnn", "an lstm" (el-es-tee-em), "a gru". */
export function article(word: string): string {
  return /^[aeiourlfhmnsx]/.test(word) ? 'an' : 'a';
}
