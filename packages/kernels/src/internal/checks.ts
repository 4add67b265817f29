// Argument checks and error messages shared by every rxrnn package (through the
// `@rxrnn/kernels/internal` entry): one message style, `<where>: <name> must be <expected>, got
// <value>`, and for arrays `<where>: <name> length N, expected <formula> = M`. O(1) per check
// (checkIds: O(n)), no allocation on success.

/** A short, safe description of any value for an error message: "NaN", "an array of length 3". */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  const name = (v as object).constructor?.name ?? 'Object';
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** Throws a RangeError `<where>: <name> must be <expected>, got <v>`. */
export function fail(where: string, name: string, expected: string, v: unknown): never {
  throw new RangeError(`${where}: ${name} must be ${expected}, got ${describe(v)}`);
}

/** A non-negative safe integer (a dimension, a count that may be zero). */
export function checkDim(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, name, 'a non-negative integer', v);
  return v;
}

/** A positive safe integer (a size, a batch, topK). */
export function checkPositiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail(where, name, 'a positive integer', v);
  return v;
}

/** A finite number. */
export function checkFinite(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, name, 'a finite number', v);
  return v;
}

/** A finite number > 0 (a temperature, a learning rate). */
export function checkPositiveFinite(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(where, name, 'a finite number > 0', v);
  return v;
}

/** A number in (0, 1] (topP, a fraction). */
export function checkUnitInterval(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) fail(where, name, 'a number in (0, 1]', v);
  return v;
}

/** A boolean flag. */
export function checkBoolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${where}: ${name} must be a boolean, got ${describe(v)}`);
  return v;
}

/** One of a fixed list of values. */
export function checkOneOf<T extends string | number>(
  where: string,
  name: string,
  v: unknown,
  values: readonly T[],
): T {
  if (!values.includes(v as T)) fail(where, name, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
  return v as T;
}

/** A Float32Array of exactly `expected` elements (`expr` names the formula, e.g. 'B*H'). */
export function checkF32(where: string, name: string, arr: unknown, expected: number, expr: string): Float32Array {
  if (!(arr instanceof Float32Array)) {
    throw new TypeError(`${where}: ${name} must be a Float32Array, got ${describe(arr)}`);
  }
  if (arr.length !== expected) {
    throw new RangeError(`${where}: ${name} length ${arr.length}, expected ${expr} = ${expected}`);
  }
  return arr;
}

/**
 * Arrays `a` and `b` do not share memory (views of one buffer whose byte ranges intersect), else a
 * RangeError `<where>: <name> shares memory with <other>; pass separate arrays`.
 */
export function checkDisjoint(
  where: string,
  name: string,
  a: ArrayBufferView,
  other: string,
  b: ArrayBufferView,
): void {
  if (a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength)
    throw new RangeError(`${where}: ${name} shares memory with ${other}; pass separate arrays`);
}

/** An Int32Array of exactly `expected` elements. */
export function checkI32(where: string, name: string, arr: unknown, expected: number, expr: string): Int32Array {
  if (!(arr instanceof Int32Array)) {
    throw new TypeError(`${where}: ${name} must be an Int32Array, got ${describe(arr)}`);
  }
  if (arr.length !== expected) {
    throw new RangeError(`${where}: ${name} length ${arr.length}, expected ${expr} = ${expected}`);
  }
  return arr;
}

/** An Int32Array of `expected` ids, each in [0, size). */
export function checkIds(where: string, name: string, ids: unknown, expected: number, size: number): Int32Array {
  checkI32(where, name, ids, expected, String(expected));
  const a = ids as Int32Array;
  for (let i = 0; i < a.length; i++) {
    const id = a[i]!;
    if (id < 0 || id >= size) fail(where, `${name}[${i}]`, `an id in [0, ${size})`, id);
  }
  return a;
}
