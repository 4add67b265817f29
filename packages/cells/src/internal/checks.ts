// Argument checks shared by the cells, stacks and the char model. They throw RangeError/TypeError
// naming what was expected and what arrived; O(1), no allocation on success.

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return `${typeof v} ${String(v)}`;
  return (v as object).constructor?.name ?? 'object';
}

/** Throws unless `v` is a positive safe integer. */
export function checkPositiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${where}: ${name} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

/** Throws unless `arr` is a Float32Array of exactly `expected` elements. */
export function checkF32(where: string, name: string, arr: unknown, expected: number, expr: string): Float32Array {
  if (!(arr instanceof Float32Array)) {
    throw new TypeError(`${where}: ${name} must be a Float32Array, got ${describe(arr)}`);
  }
  if (arr.length !== expected) {
    throw new RangeError(`${where}: ${name} length ${arr.length}, expected ${expr} = ${expected}`);
  }
  return arr;
}

/** Throws unless `ids` is an Int32Array of `expected` ids, each in [0, size). */
export function checkIds(where: string, name: string, ids: unknown, expected: number, size: number): Int32Array {
  if (!(ids instanceof Int32Array)) {
    throw new TypeError(`${where}: ${name} must be an Int32Array, got ${describe(ids)}`);
  }
  if (ids.length !== expected) {
    throw new RangeError(`${where}: ${name} length ${ids.length}, expected ${expected}`);
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= size) {
      throw new RangeError(`${where}: ${name}[${i}] = ${id}, expected an id in [0, ${size})`);
    }
  }
  return ids;
}
