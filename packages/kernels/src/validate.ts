// The kernels' composite argument checks (dims are non-negative integers, arrays are Float32Arrays
// of exactly the length their dims imply), built on internal/checks.ts. O(1), no allocation.
import { checkBoolean, checkDim, checkF32, checkFinite } from './internal/checks.js';

export { checkDim, checkDisjoint, checkF32, checkFinite, checkI32 } from './internal/checks.js';

// Per-kernel argument checks, used by both the reference twin and the wasm dispatch so the two
// backends reject exactly the same inputs with the same messages.

export function checkGemv(
  where: string,
  y: Float32Array,
  W: Float32Array,
  x: Float32Array,
  rows: number,
  cols: number,
  acc: boolean,
  transposed: boolean,
): void {
  checkDim(where, 'rows', rows);
  checkDim(where, 'cols', cols);
  checkBoolean(where, 'acc', acc);
  checkF32(where, 'W', W, rows * cols, 'rows*cols');
  checkF32(where, 'x', x, transposed ? rows : cols, transposed ? 'rows' : 'cols');
  checkF32(where, 'y', y, transposed ? cols : rows, transposed ? 'cols' : 'rows');
}

export function checkGemm(
  where: string,
  C: Float32Array,
  A: Float32Array,
  Bm: Float32Array,
  M: number,
  N: number,
  K: number,
  acc: boolean,
): void {
  checkDim(where, 'M', M);
  checkDim(where, 'N', N);
  checkDim(where, 'K', K);
  checkBoolean(where, 'acc', acc);
  checkF32(where, 'C', C, M * N, 'M*N');
  checkF32(where, 'A', A, M * K, where === 'gemmAtB' ? 'K*M' : 'M*K');
  checkF32(where, 'Bm', Bm, N * K, where === 'gemmABt' ? 'N*K' : 'K*N');
}

export function checkGer(
  where: string,
  A: Float32Array,
  x: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
  alpha: number,
): void {
  checkDim(where, 'rows', rows);
  checkDim(where, 'cols', cols);
  checkFinite(where, 'alpha', alpha);
  checkF32(where, 'A', A, rows * cols, 'rows*cols');
  checkF32(where, 'x', x, rows, 'rows');
  checkF32(where, 'y', y, cols, 'cols');
}

/** Checks that B and H are dims. */
export function checkBH(where: string, B: number, H: number): void {
  checkDim(where, 'B', B);
  checkDim(where, 'H', H);
}

/** Checks a gate-shaped array: length B*G*H (G gate blocks per batch row). */
export function checkG(where: string, name: string, arr: Float32Array, B: number, H: number, G: number): void {
  // The formula text is built only on failure: this check runs several times per gate call.
  if (!(arr instanceof Float32Array) || arr.length !== B * G * H) {
    checkF32(where, name, arr, B * G * H, G === 1 ? 'B*H' : `B*${G}H`);
  }
}
