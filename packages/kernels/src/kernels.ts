// The public linear-algebra and gate kernels, one table entry each (dispatch.ts does the checks
// and the backend choice). Shapes are row-major; the caller owns every buffer. Glossary: B batch
// rows, H hidden size, n_x input size; LSTM gate rows [i, f, g, o], GRU gate rows [r, z, n].
import { active, activeNative } from './backend.js';
import { defineKernel, IN, INOUT, OUT } from './dispatch.js';
import * as G from './reference/gates.js';
import * as L from './reference/linalg.js';
import { gemmHelper, sharedGemmABt } from './step-threads.js';
import { checkGemm, checkGemv, checkGer } from './validate.js';
import { ptr, viaScratch, workspace } from './wasm-memory.js';

type F = Float32Array;

/**
 * Matrix-vector product `y = W·x` (or `y += W·x` with `acc`).
 *
 * @param y - output `[rows]`.
 * @param W - `[rows × cols]`, row-major.
 * @param x - `[cols]`.
 * @param acc - add into `y` instead of overwriting it (default false).
 * @throws RangeError/TypeError when a length does not match its dims (no array is touched).
 * @example
 * ```ts
 * import { gemv } from '@rxrnn/kernels';
 * const y = new Float32Array(2);
 * gemv(y, Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 1), 2, 2); // y = [3, 7]
 * ```
 */
export const gemv: (y: F, W: F, x: F, rows: number, cols: number, acc?: boolean) => void = defineKernel({
  wasm: 'gemv',
  io: [INOUT, IN, IN],
  check: (y: F, W: F, x: F, rows: number, cols: number, acc = false) =>
    checkGemv('gemv', y, W, x, rows, cols, acc, false),
  twin: L.gemv,
});

/**
 * Transposed matrix-vector product `y = Wᵀ·x` (or `y += Wᵀ·x` with `acc`): `y [cols]`,
 * `W [rows × cols]`, `x [rows]`. The input gradient of a dense layer.
 *
 * @throws RangeError/TypeError when a length does not match its dims.
 */
export const gemvT: (y: F, W: F, x: F, rows: number, cols: number, acc?: boolean) => void = defineKernel({
  wasm: 'gemvT',
  io: [INOUT, IN, IN],
  check: (y: F, W: F, x: F, rows: number, cols: number, acc = false) =>
    checkGemv('gemvT', y, W, x, rows, cols, acc, true),
  twin: L.gemvT,
});

/**
 * Rank-1 update `A += alpha·x·yᵀ`: `A [rows × cols]`, `x [rows]`, `y [cols]`, alpha default 1.
 * A batch-1 weight gradient.
 *
 * @throws RangeError/TypeError when a length does not match its dims or alpha is not finite.
 */
export const ger: (A: F, x: F, y: F, rows: number, cols: number, alpha?: number) => void = defineKernel({
  wasm: 'ger',
  io: [INOUT, IN, IN],
  check: (A: F, x: F, y: F, rows: number, cols: number, alpha = 1) => checkGer('ger', A, x, y, rows, cols, alpha),
  twin: (A: F, x: F, y: F, rows: number, cols: number, alpha = 1) => L.ger(A, x, y, rows, cols, alpha),
  defaults: { 5: 1 },
});

type GemmName = 'gemmABt' | 'gemmAtB' | 'gemmAB';
const GEMM_TWIN = { gemmABt: L.gemmABt, gemmAtB: L.gemmAtB, gemmAB: L.gemmAB };

// The three products differ only in their layouts: one dispatch with two extras, gemmAtB's
// transposed-A workspace and the step helper that shares large gemmABt products.
function gemm(name: GemmName, C: F, A: F, Bm: F, M: number, N: number, K: number, acc: boolean): void {
  checkGemm(name, C, A, Bm, M, N, K, acc);
  const n = activeNative();
  if (n !== null) {
    n[name](C, A, Bm, M, N, K, acc ? 1 : 0);
    return;
  }
  const w = active();
  const ws = w !== null && name === 'gemmAtB' ? workspace(4 * M * K) : 0;
  if (w === null || ws < 0) {
    GEMM_TWIN[name](C, A, Bm, M, N, K, acc);
    return;
  }
  const a = acc ? 1 : 0;
  const pC = ptr(C);
  const pA = ptr(A);
  const pB = ptr(Bm);
  if ((pC | pA | pB) >= 0) {
    const helper = name === 'gemmABt' ? gemmHelper(M, N, K) : null;
    if (helper !== null) sharedGemmABt(helper, pC, pA, pB, M, N, K, a);
    else w[name](pC, pA, pB, M, N, K, a, ws);
    return;
  }
  if (!viaScratch([C, A, Bm], [acc ? INOUT : OUT, IN, IN], (p) => w[name](p[0]!, p[1]!, p[2]!, M, N, K, a, ws))) {
    GEMM_TWIN[name](C, A, Bm, M, N, K, acc);
  }
}

/**
 * Batched forward product `C = A·Bmᵀ` (or `+=` with `acc`): `C [M × N]`, `A [M × K]`,
 * `Bm [N × K]`. With weights `W [G·H × n_x]` as `Bm` and a batch `X [B × n_x]` as `A`, `C` holds
 * the pre-activations `X·Wᵀ`.
 *
 * @throws RangeError/TypeError when a length does not match its dims.
 * @example
 * ```ts
 * import { gemmABt } from '@rxrnn/kernels';
 * const C = new Float32Array(2 * 2);
 * gemmABt(C, Float32Array.of(1, 0, 0, 1), Float32Array.of(1, 2, 3, 4), 2, 2, 2); // C = [1, 3, 2, 4]
 * ```
 */
export function gemmABt(C: F, A: F, Bm: F, M: number, N: number, K: number, acc = false): void {
  gemm('gemmABt', C, A, Bm, M, N, K, acc);
}

/**
 * Weight-gradient product `C = Aᵀ·Bm` (or `+=` with `acc`): `C [M × N]`, `A [K × M]`,
 * `Bm [K × N]` — `dW = dGᵀ·X` summed over the K rows of a batch.
 *
 * @throws RangeError/TypeError when a length does not match its dims.
 */
export function gemmAtB(C: F, A: F, Bm: F, M: number, N: number, K: number, acc = false): void {
  gemm('gemmAtB', C, A, Bm, M, N, K, acc);
}

/**
 * Input-gradient product `C = A·Bm` (or `+=` with `acc`): `C [M × N]`, `A [M × K]`,
 * `Bm [K × N]` — `dX = dG·W`.
 *
 * @throws RangeError/TypeError when a length does not match its dims.
 */
export function gemmAB(C: F, A: F, Bm: F, M: number, N: number, K: number, acc = false): void {
  gemm('gemmAB', C, A, Bm, M, N, K, acc);
}

/**
 * tanh RNN gate pass `h = tanh(pre)` over `[B × H]` (pre holds `W_ih·x + W_hh·h + b`).
 *
 * @throws RangeError/TypeError when a length is not B·H.
 */
export const rnnForward: (h: F, pre: F, B: number, H: number) => void = defineKernel({
  wasm: 'rnnForward',
  io: [OUT, IN],
  check: G.rnnForwardCheck,
  twin: G.rnnForwardCore,
});

/**
 * tanh RNN gate backward `dPre = dh·(1 − h²)` over `[B × H]`, from the saved output `h`.
 *
 * @throws RangeError/TypeError when a length is not B·H.
 */
export const rnnBackward: (dPre: F, dh: F, h: F, B: number, H: number) => void = defineKernel({
  wasm: 'rnnBackward',
  io: [OUT, IN, IN],
  check: G.rnnBackwardCheck,
  twin: G.rnnBackwardCore,
});

/**
 * LSTM gate pass over a batch: from `pre [B × 4H]` (rows `[i, f, g, o]`, biases included) and
 * `cPrev [B × H]`, writes `act = [σ(i), σ(f), tanh(g), σ(o)]` (saved for backward),
 * `c = f·cPrev + i·g` and `h = o·tanh(c)`.
 *
 * @throws RangeError/TypeError when a length does not match B and H.
 */
export const lstmForward: (h: F, c: F, act: F, pre: F, cPrev: F, B: number, H: number) => void = defineKernel({
  wasm: 'lstmForward',
  io: [OUT, OUT, OUT, IN, IN],
  check: G.lstmForwardCheck,
  twin: G.lstmForwardCore,
});

/**
 * LSTM gate backward: from the upstream `dh`, `dc [B × H]` (dc from the next step; zeros at the
 * end of a window) and the saved `act`, `cPrev`, `c`, writes `dPre [B × 4H]` and `dcPrev [B × H]`.
 *
 * @throws RangeError/TypeError when a length does not match B and H.
 */
export const lstmBackward: (dPre: F, dcPrev: F, dh: F, dc: F, act: F, cPrev: F, c: F, B: number, H: number) => void =
  defineKernel({
    wasm: 'lstmBackward',
    io: [OUT, OUT, IN, IN, IN, IN, IN],
    check: G.lstmBackwardCheck,
    twin: G.lstmBackwardCore,
  });

/**
 * Reset-after GRU gate pass (PyTorch's): `xPre = W_ih·x + b_ih` and `hPre = W_hh·h + b_hh`, both
 * `[B × 3H]` rows `[r, z, n]`; `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r·h_n)`,
 * `h = (1 − z)·n + z·hPrev`. `act` saves r, z, n.
 *
 * @throws RangeError/TypeError when a length does not match B and H.
 */
export const gruForward: (h: F, act: F, xPre: F, hPre: F, hPrev: F, B: number, H: number) => void = defineKernel({
  wasm: 'gruForward',
  io: [OUT, OUT, IN, IN, IN],
  check: G.gruForwardCheck,
  twin: G.gruForwardCore,
});

/**
 * Reset-after GRU gate backward: writes `dxPre`, `dhPre [B × 3H]` and the direct part of
 * `dhPrev = z·dh` (the caller adds `dhPre·W_hh`).
 *
 * @throws RangeError/TypeError when a length does not match B and H.
 */
export const gruBackward: (
  dxPre: F,
  dhPre: F,
  dhPrev: F,
  dh: F,
  act: F,
  hPre: F,
  hPrev: F,
  B: number,
  H: number,
) => void = defineKernel({
  wasm: 'gruBackward',
  io: [OUT, OUT, OUT, IN, IN, IN, IN],
  check: G.gruBackwardCheck,
  twin: G.gruBackwardCore,
});

/**
 * Reset-before GRU, first stage: `r`, `z` into `act [B × 3H]` and `rh = r·hPrev [B × H]`, from
 * `xPre [B × 3H]` and `hPreRz [B × 2H]` (rows `[r, z]`). The caller then forms `W_hn·rh`.
 *
 * @throws RangeError/TypeError when a length does not match B and H.
 */
export const gruRzForward: (act: F, rh: F, xPre: F, hPreRz: F, hPrev: F, B: number, H: number) => void = defineKernel({
  wasm: 'gruRzForward',
  // act is INOUT: only its r and z blocks are written, so its n block must survive a copy-out.
  io: [INOUT, OUT, IN, IN, IN],
  check: G.gruRzForwardCheck,
  twin: G.gruRzForwardCore,
});

/**
 * Reset-before GRU, second stage: `n = tanh(x_n + hn)` into `act`, `h = (1 − z)·n + z·hPrev`,
 * where `hn = W_hn·(r·hPrev) + b_hn [B × H]`.
 *
 * @throws RangeError/TypeError when a length does not match B and H.
 */
export const gruNForward: (h: F, act: F, xPre: F, hn: F, hPrev: F, B: number, H: number) => void = defineKernel({
  wasm: 'gruNForward',
  io: [OUT, INOUT, IN, IN, IN],
  check: G.gruNForwardCheck,
  twin: G.gruNForwardCore,
});

/**
 * Reset-before GRU backward of the second stage (run first): `dxPre`'s z and n blocks,
 * `dhn [B × H]`, and `dhPrev = z·dh`.
 *
 * @throws RangeError/TypeError when a length does not match B and H.
 */
export const gruNBackward: (dxPre: F, dhn: F, dhPrev: F, dh: F, act: F, hPrev: F, B: number, H: number) => void =
  defineKernel({
    wasm: 'gruNBackward',
    io: [INOUT, OUT, OUT, IN, IN, IN],
    check: G.gruNBackwardCheck,
    twin: G.gruNBackwardCore,
  });

/**
 * Reset-before GRU backward of the first stage (run second): `dxPre`'s r block,
 * `dhPreRz [B × 2H]`, and `dhPrev += r·drh`.
 *
 * @throws RangeError/TypeError when a length does not match B and H.
 */
export const gruRzBackward: (dxPre: F, dhPreRz: F, dhPrev: F, drh: F, act: F, hPrev: F, B: number, H: number) => void =
  defineKernel({
    wasm: 'gruRzBackward',
    io: [INOUT, OUT, INOUT, IN, IN, IN],
    check: G.gruRzBackwardCheck,
    twin: G.gruRzBackwardCore,
  });
