// Argument validation shared by every kernel: dims are non-negative integers, arrays are
// Float32Arrays of exactly the length their dims imply. O(1) per call, no allocation on success.

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

/** Throws unless `v` is a non-negative safe integer. */
export function checkDim(kernel: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${kernel}: ${name} must be a non-negative integer, got ${String(v)}`);
  }
}

/** Throws unless `arr` is a Float32Array of length `expected` (`expr` names the formula). */
export function checkF32(kernel: string, what: string, arr: Float32Array, expected: number, expr: string): void {
  if (!(arr instanceof Float32Array)) {
    throw new TypeError(`${kernel}: ${what} must be a Float32Array, got ${describe(arr)}`);
  }
  if (arr.length !== expected) {
    throw new RangeError(`${kernel}: ${what} length ${arr.length}, expected ${expr} = ${expected}`);
  }
}

/** Throws unless `arr` is an Int32Array of length `expected`. */
export function checkI32(kernel: string, what: string, arr: Int32Array, expected: number, expr: string): void {
  if (!(arr instanceof Int32Array)) {
    throw new TypeError(`${kernel}: ${what} must be an Int32Array, got ${describe(arr)}`);
  }
  if (arr.length !== expected) {
    throw new RangeError(`${kernel}: ${what} length ${arr.length}, expected ${expr} = ${expected}`);
  }
}

/** Throws unless `v` is a finite number. */
export function checkFinite(kernel: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new RangeError(`${kernel}: ${name} must be a finite number, got ${String(v)}`);
  }
}

/** Throws unless `v` is a boolean (the `acc` flag). */
export function checkFlag(kernel: string, name: string, v: boolean): void {
  if (typeof v !== 'boolean') {
    throw new TypeError(`${kernel}: ${name} must be a boolean, got ${describe(v)}`);
  }
}

// Per-kernel argument checks, used by both the reference twin and the wasm dispatch so the two
// backends reject exactly the same inputs with the same messages.

export function checkGemv(
  k: string,
  y: Float32Array,
  W: Float32Array,
  x: Float32Array,
  rows: number,
  cols: number,
  acc: boolean,
  transposed: boolean,
): void {
  checkDim(k, 'rows', rows);
  checkDim(k, 'cols', cols);
  checkFlag(k, 'acc', acc);
  checkF32(k, 'W', W, rows * cols, 'rows*cols');
  checkF32(k, 'x', x, transposed ? rows : cols, transposed ? 'rows' : 'cols');
  checkF32(k, 'y', y, transposed ? cols : rows, transposed ? 'cols' : 'rows');
}

export function checkGemm(
  k: string,
  C: Float32Array,
  A: Float32Array,
  Bm: Float32Array,
  M: number,
  N: number,
  K: number,
  acc: boolean,
): void {
  checkDim(k, 'M', M);
  checkDim(k, 'N', N);
  checkDim(k, 'K', K);
  checkFlag(k, 'acc', acc);
  checkF32(k, 'C', C, M * N, 'M*N');
  checkF32(k, 'A', A, M * K, k === 'gemmAtB' ? 'K*M' : 'M*K');
  checkF32(k, 'Bm', Bm, N * K, k === 'gemmABt' ? 'N*K' : 'K*N');
}

export function checkGer(
  k: string,
  A: Float32Array,
  x: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
  alpha: number,
): void {
  checkDim(k, 'rows', rows);
  checkDim(k, 'cols', cols);
  checkFinite(k, 'alpha', alpha);
  checkF32(k, 'A', A, rows * cols, 'rows*cols');
  checkF32(k, 'x', x, rows, 'rows');
  checkF32(k, 'y', y, cols, 'cols');
}

/** Checks that B and H are dims. */
export function checkBH(k: string, B: number, H: number): void {
  checkDim(k, 'B', B);
  checkDim(k, 'H', H);
}

/** Checks a gate-shaped array: length B*G*H (G gate blocks per batch row). */
export function checkG(k: string, name: string, arr: Float32Array, B: number, H: number, G: number): void {
  // The formula text is built only on failure: this check runs several times per gate call.
  if (!(arr instanceof Float32Array) || arr.length !== B * G * H) {
    checkF32(k, name, arr, B * G * H, G === 1 ? 'B*H' : `B*${G}H`);
  }
}
