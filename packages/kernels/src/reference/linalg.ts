// Reference twin of the linear-algebra kernels: naive loops, row-major, float64 accumulation
// per output element. Shapes as in docs/contracts.md; the caller owns every buffer.
import { checkGemm, checkGemv, checkGer } from '../validate.js';

/** y[rows] = W[rows×cols] · x[cols] (acc: y += …). */
export function gemv(y: Float32Array, W: Float32Array, x: Float32Array, rows: number, cols: number, acc = false): void {
  checkGemv('gemv', y, W, x, rows, cols, acc, false);
  for (let r = 0; r < rows; r++) {
    let s = acc ? y[r]! : 0;
    const o = r * cols;
    for (let c = 0; c < cols; c++) s += W[o + c]! * x[c]!;
    y[r] = s;
  }
}

/** y[cols] = W[rows×cols]ᵀ · x[rows] (acc: y += …). */
export function gemvT(
  y: Float32Array,
  W: Float32Array,
  x: Float32Array,
  rows: number,
  cols: number,
  acc = false,
): void {
  checkGemv('gemvT', y, W, x, rows, cols, acc, true);
  for (let c = 0; c < cols; c++) {
    let s = acc ? y[c]! : 0;
    for (let r = 0; r < rows; r++) s += W[r * cols + c]! * x[r]!;
    y[c] = s;
  }
}

/** C[M×N] = A[M×K] · Bm[N×K]ᵀ (acc: C += …). */
export function gemmABt(
  C: Float32Array,
  A: Float32Array,
  Bm: Float32Array,
  M: number,
  N: number,
  K: number,
  acc = false,
): void {
  checkGemm('gemmABt', C, A, Bm, M, N, K, acc);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = acc ? C[i * N + j]! : 0;
      for (let k = 0; k < K; k++) s += A[i * K + k]! * Bm[j * K + k]!;
      C[i * N + j] = s;
    }
  }
}

/** C[M×N] = A[K×M]ᵀ · Bm[K×N] (acc: C += …). */
export function gemmAtB(
  C: Float32Array,
  A: Float32Array,
  Bm: Float32Array,
  M: number,
  N: number,
  K: number,
  acc = false,
): void {
  checkGemm('gemmAtB', C, A, Bm, M, N, K, acc);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = acc ? C[i * N + j]! : 0;
      for (let k = 0; k < K; k++) s += A[k * M + i]! * Bm[k * N + j]!;
      C[i * N + j] = s;
    }
  }
}

/** C[M×N] = A[M×K] · Bm[K×N] (acc: C += …). */
export function gemmAB(
  C: Float32Array,
  A: Float32Array,
  Bm: Float32Array,
  M: number,
  N: number,
  K: number,
  acc = false,
): void {
  checkGemm('gemmAB', C, A, Bm, M, N, K, acc);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = acc ? C[i * N + j]! : 0;
      for (let k = 0; k < K; k++) s += A[i * K + k]! * Bm[k * N + j]!;
      C[i * N + j] = s;
    }
  }
}

/** A[rows×cols] += alpha · x[rows] y[cols]ᵀ (rank-1 update). */
export function ger(A: Float32Array, x: Float32Array, y: Float32Array, rows: number, cols: number, alpha = 1): void {
  checkGer('ger', A, x, y, rows, cols, alpha);
  for (let r = 0; r < rows; r++) {
    const ax = alpha * x[r]!;
    const o = r * cols;
    for (let c = 0; c < cols; c++) A[o + c] = A[o + c]! + ax * y[c]!;
  }
}
