// Public linear-algebra and gate kernels: validate once, then run on the active backend. On wasm,
// arrays from allocF32 are passed by pointer (zero copy); other arrays go through the scratch
// copy in backend.ts (correct, slower). Shapes as in docs/contracts.md; callers own all buffers.
import { active, ptr, viaScratch, workspace } from './backend.js';
import * as G from './reference/gates.js';
import * as L from './reference/linalg.js';
import * as S from './reference/step.js';
import { gemmHelper, sharedGemmABt, sharedRows, stepHelper } from './step-threads.js';
import { checkGemm, checkGemv, checkGer } from './validate.js';

// Mode bits for viaScratch: 1 = copy in, 2 = copy out.
const IN = 1, OUT = 2, INOUT = 3;

/** y[rows] = W[rows×cols] · x[cols]; acc (default false) adds into y. */
export function gemv(y: Float32Array, W: Float32Array, x: Float32Array, rows: number, cols: number, acc = false): void {
  const w = active();
  if (!w) return L.gemv(y, W, x, rows, cols, acc);
  checkGemv('gemv', y, W, x, rows, cols, acc, false);
  const py = ptr(y), pW = ptr(W), px = ptr(x);
  if ((py | pW | px) >= 0) return w.gemv(py, pW, px, rows, cols, acc ? 1 : 0);
  if (!viaScratch([y, W, x], [acc ? INOUT : OUT, IN, IN], (p) => w.gemv(p[0]!, p[1]!, p[2]!, rows, cols, acc ? 1 : 0))) {
    L.gemv(y, W, x, rows, cols, acc);
  }
}

/** y[cols] = W[rows×cols]ᵀ · x[rows]; acc (default false) adds into y. */
export function gemvT(y: Float32Array, W: Float32Array, x: Float32Array, rows: number, cols: number, acc = false): void {
  const w = active();
  if (!w) return L.gemvT(y, W, x, rows, cols, acc);
  checkGemv('gemvT', y, W, x, rows, cols, acc, true);
  const py = ptr(y), pW = ptr(W), px = ptr(x);
  if ((py | pW | px) >= 0) return w.gemvT(py, pW, px, rows, cols, acc ? 1 : 0);
  if (!viaScratch([y, W, x], [acc ? INOUT : OUT, IN, IN], (p) => w.gemvT(p[0]!, p[1]!, p[2]!, rows, cols, acc ? 1 : 0))) {
    L.gemvT(y, W, x, rows, cols, acc);
  }
}

type GemmName = 'gemmABt' | 'gemmAtB' | 'gemmAB';

function gemm(name: GemmName, C: Float32Array, A: Float32Array, Bm: Float32Array, M: number, N: number, K: number, acc: boolean): void {
  const w = active();
  if (!w) return L[name](C, A, Bm, M, N, K, acc);
  checkGemm(name, C, A, Bm, M, N, K, acc);
  // gemmAtB transposes A into a kernel-owned workspace first (see assembly/linalg.ts).
  const ws = name === 'gemmAtB' ? workspace(4 * M * K) : 0;
  if (ws < 0) return L[name](C, A, Bm, M, N, K, acc);
  const a = acc ? 1 : 0;
  const pC = ptr(C), pA = ptr(A), pB = ptr(Bm);
  if ((pC | pA | pB) >= 0) {
    // A large batched forward product goes to the step helper too, when one runs.
    const helper = name === 'gemmABt' ? gemmHelper(M, N, K) : null;
    if (helper !== null) return sharedGemmABt(helper, pC, pA, pB, M, N, K, a);
    return w[name](pC, pA, pB, M, N, K, a, ws);
  }
  if (!viaScratch([C, A, Bm], [acc ? INOUT : OUT, IN, IN], (p) => w[name](p[0]!, p[1]!, p[2]!, M, N, K, a, ws))) {
    L[name](C, A, Bm, M, N, K, acc);
  }
}

/** C[M×N] = A[M×K] · Bm[N×K]ᵀ (batched forward X·Wᵀ); acc (default false) adds into C. */
export function gemmABt(C: Float32Array, A: Float32Array, Bm: Float32Array, M: number, N: number, K: number, acc = false): void {
  gemm('gemmABt', C, A, Bm, M, N, K, acc);
}

/** C[M×N] = A[K×M]ᵀ · Bm[K×N] (weight gradients dGᵀ·X); acc (default false) adds into C. */
export function gemmAtB(C: Float32Array, A: Float32Array, Bm: Float32Array, M: number, N: number, K: number, acc = false): void {
  gemm('gemmAtB', C, A, Bm, M, N, K, acc);
}

/** C[M×N] = A[M×K] · Bm[K×N] (input gradients dG·W); acc (default false) adds into C. */
export function gemmAB(C: Float32Array, A: Float32Array, Bm: Float32Array, M: number, N: number, K: number, acc = false): void {
  gemm('gemmAB', C, A, Bm, M, N, K, acc);
}

/** A[rows×cols] += alpha · x[rows] y[cols]ᵀ; alpha defaults to 1. */
export function ger(A: Float32Array, x: Float32Array, y: Float32Array, rows: number, cols: number, alpha = 1): void {
  const w = active();
  if (!w) return L.ger(A, x, y, rows, cols, alpha);
  checkGer('ger', A, x, y, rows, cols, alpha);
  const pA = ptr(A), px = ptr(x), py = ptr(y);
  if ((pA | px | py) >= 0) return w.ger(pA, px, py, rows, cols, alpha);
  if (!viaScratch([A, x, y], [INOUT, IN, IN], (p) => w.ger(p[0]!, p[1]!, p[2]!, rows, cols, alpha))) {
    L.ger(A, x, y, rows, cols, alpha);
  }
}

/** h[B×H] = tanh(pre[B×H]). */
export function rnnForward(h: Float32Array, pre: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.rnnForward(h, pre, B, H);
  G.rnnForwardCheck(h, pre, B, H);
  const a = ptr(h), b = ptr(pre);
  if ((a | b) >= 0) return w.rnnForward(a, b, B, H);
  if (!viaScratch([h, pre], [OUT, IN], (p) => w.rnnForward(p[0]!, p[1]!, B, H))) G.rnnForwardCore(h, pre, B, H);
}

/** dPre[B×H] = dh·(1 − h²) from the saved output h. */
export function rnnBackward(dPre: Float32Array, dh: Float32Array, h: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.rnnBackward(dPre, dh, h, B, H);
  G.rnnBackwardCheck(dPre, dh, h, B, H);
  const a = ptr(dPre), b = ptr(dh), c = ptr(h);
  if ((a | b | c) >= 0) return w.rnnBackward(a, b, c, B, H);
  if (!viaScratch([dPre, dh, h], [OUT, IN, IN], (p) => w.rnnBackward(p[0]!, p[1]!, p[2]!, B, H))) G.rnnBackwardCore(dPre, dh, h, B, H);
}

/** LSTM step over pre [B×4H] rows [i, f, g, o]: writes h, c [B×H] and act [B×4H]. */
export function lstmForward(h: Float32Array, c: Float32Array, act: Float32Array, pre: Float32Array, cPrev: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.lstmForward(h, c, act, pre, cPrev, B, H);
  G.lstmForwardCheck(h, c, act, pre, cPrev, B, H);
  const p0 = ptr(h), p1 = ptr(c), p2 = ptr(act), p3 = ptr(pre), p4 = ptr(cPrev);
  if ((p0 | p1 | p2 | p3 | p4) >= 0) return w.lstmForward(p0, p1, p2, p3, p4, B, H);
  if (!viaScratch([h, c, act, pre, cPrev], [OUT, OUT, OUT, IN, IN], (p) => w.lstmForward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, B, H))) {
    G.lstmForwardCore(h, c, act, pre, cPrev, B, H);
  }
}

/** LSTM step backward: writes dPre [B×4H] and dcPrev [B×H] from upstream dh, dc and saved act, cPrev, c. */
export function lstmBackward(dPre: Float32Array, dcPrev: Float32Array, dh: Float32Array, dc: Float32Array, act: Float32Array, cPrev: Float32Array, c: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.lstmBackward(dPre, dcPrev, dh, dc, act, cPrev, c, B, H);
  G.lstmBackwardCheck(dPre, dcPrev, dh, dc, act, cPrev, c, B, H);
  const p0 = ptr(dPre), p1 = ptr(dcPrev), p2 = ptr(dh), p3 = ptr(dc), p4 = ptr(act), p5 = ptr(cPrev), p6 = ptr(c);
  if ((p0 | p1 | p2 | p3 | p4 | p5 | p6) >= 0) return w.lstmBackward(p0, p1, p2, p3, p4, p5, p6, B, H);
  if (!viaScratch([dPre, dcPrev, dh, dc, act, cPrev, c], [OUT, OUT, IN, IN, IN, IN, IN], (p) => w.lstmBackward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, B, H))) {
    G.lstmBackwardCore(dPre, dcPrev, dh, dc, act, cPrev, c, B, H);
  }
}

/** GRU reset-after step: writes h [B×H] and act [B×3H] from xPre, hPre [B×3H] rows [r, z, n]. */
export function gruForward(h: Float32Array, act: Float32Array, xPre: Float32Array, hPre: Float32Array, hPrev: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.gruForward(h, act, xPre, hPre, hPrev, B, H);
  G.gruForwardCheck(h, act, xPre, hPre, hPrev, B, H);
  const p0 = ptr(h), p1 = ptr(act), p2 = ptr(xPre), p3 = ptr(hPre), p4 = ptr(hPrev);
  if ((p0 | p1 | p2 | p3 | p4) >= 0) return w.gruForward(p0, p1, p2, p3, p4, B, H);
  if (!viaScratch([h, act, xPre, hPre, hPrev], [OUT, OUT, IN, IN, IN], (p) => w.gruForward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, B, H))) {
    G.gruForwardCore(h, act, xPre, hPre, hPrev, B, H);
  }
}

/** GRU reset-after backward: writes dxPre, dhPre [B×3H] and dhPrev = z·dh (caller adds dhPre·W_hh). */
export function gruBackward(dxPre: Float32Array, dhPre: Float32Array, dhPrev: Float32Array, dh: Float32Array, act: Float32Array, hPre: Float32Array, hPrev: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.gruBackward(dxPre, dhPre, dhPrev, dh, act, hPre, hPrev, B, H);
  G.gruBackwardCheck(dxPre, dhPre, dhPrev, dh, act, hPre, hPrev, B, H);
  const p0 = ptr(dxPre), p1 = ptr(dhPre), p2 = ptr(dhPrev), p3 = ptr(dh), p4 = ptr(act), p5 = ptr(hPre), p6 = ptr(hPrev);
  if ((p0 | p1 | p2 | p3 | p4 | p5 | p6) >= 0) return w.gruBackward(p0, p1, p2, p3, p4, p5, p6, B, H);
  if (!viaScratch([dxPre, dhPre, dhPrev, dh, act, hPre, hPrev], [OUT, OUT, OUT, IN, IN, IN, IN], (p) => w.gruBackward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, B, H))) {
    G.gruBackwardCore(dxPre, dhPre, dhPrev, dh, act, hPre, hPrev, B, H);
  }
}

/** GRU reset-before stage 1: r, z into act [B×3H], rh = r·hPrev [B×H]; hPreRz is [B×2H] rows [r, z]. */
export function gruRzForward(act: Float32Array, rh: Float32Array, xPre: Float32Array, hPreRz: Float32Array, hPrev: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.gruRzForward(act, rh, xPre, hPreRz, hPrev, B, H);
  G.gruRzForwardCheck(act, rh, xPre, hPreRz, hPrev, B, H);
  const p0 = ptr(act), p1 = ptr(rh), p2 = ptr(xPre), p3 = ptr(hPreRz), p4 = ptr(hPrev);
  if ((p0 | p1 | p2 | p3 | p4) >= 0) return w.gruRzForward(p0, p1, p2, p3, p4, B, H);
  // act is INOUT: only its r and z blocks are written, the n block must survive the copy-out.
  if (!viaScratch([act, rh, xPre, hPreRz, hPrev], [INOUT, OUT, IN, IN, IN], (p) => w.gruRzForward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, B, H))) {
    G.gruRzForwardCore(act, rh, xPre, hPreRz, hPrev, B, H);
  }
}

/** GRU reset-before stage 2: n = tanh(xn + hn) into act, h = (1 − z)·n + z·hPrev. */
export function gruNForward(h: Float32Array, act: Float32Array, xPre: Float32Array, hn: Float32Array, hPrev: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.gruNForward(h, act, xPre, hn, hPrev, B, H);
  G.gruNForwardCheck(h, act, xPre, hn, hPrev, B, H);
  const p0 = ptr(h), p1 = ptr(act), p2 = ptr(xPre), p3 = ptr(hn), p4 = ptr(hPrev);
  if ((p0 | p1 | p2 | p3 | p4) >= 0) return w.gruNForward(p0, p1, p2, p3, p4, B, H);
  if (!viaScratch([h, act, xPre, hn, hPrev], [OUT, INOUT, IN, IN, IN], (p) => w.gruNForward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, B, H))) {
    G.gruNForwardCore(h, act, xPre, hn, hPrev, B, H);
  }
}

/** GRU reset-before backward of stage 2 (first): dxPre's z and n blocks, dhn [B×H], dhPrev = z·dh. */
export function gruNBackward(dxPre: Float32Array, dhn: Float32Array, dhPrev: Float32Array, dh: Float32Array, act: Float32Array, hPrev: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.gruNBackward(dxPre, dhn, dhPrev, dh, act, hPrev, B, H);
  G.gruNBackwardCheck(dxPre, dhn, dhPrev, dh, act, hPrev, B, H);
  const p0 = ptr(dxPre), p1 = ptr(dhn), p2 = ptr(dhPrev), p3 = ptr(dh), p4 = ptr(act), p5 = ptr(hPrev);
  if ((p0 | p1 | p2 | p3 | p4 | p5) >= 0) return w.gruNBackward(p0, p1, p2, p3, p4, p5, B, H);
  if (!viaScratch([dxPre, dhn, dhPrev, dh, act, hPrev], [INOUT, OUT, OUT, IN, IN, IN], (p) => w.gruNBackward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, B, H))) {
    G.gruNBackwardCore(dxPre, dhn, dhPrev, dh, act, hPrev, B, H);
  }
}

/** GRU reset-before backward of stage 1 (second): dxPre's r block, dhPreRz [B×2H], dhPrev += r·drh. */
export function gruRzBackward(dxPre: Float32Array, dhPreRz: Float32Array, dhPrev: Float32Array, drh: Float32Array, act: Float32Array, hPrev: Float32Array, B: number, H: number): void {
  const w = active();
  if (!w) return G.gruRzBackward(dxPre, dhPreRz, dhPrev, drh, act, hPrev, B, H);
  G.gruRzBackwardCheck(dxPre, dhPreRz, dhPrev, drh, act, hPrev, B, H);
  const p0 = ptr(dxPre), p1 = ptr(dhPreRz), p2 = ptr(dhPrev), p3 = ptr(drh), p4 = ptr(act), p5 = ptr(hPrev);
  if ((p0 | p1 | p2 | p3 | p4 | p5) >= 0) return w.gruRzBackward(p0, p1, p2, p3, p4, p5, B, H);
  if (!viaScratch([dxPre, dhPreRz, dhPrev, drh, act, hPrev], [INOUT, OUT, INOUT, IN, IN, IN], (p) => w.gruRzBackward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, B, H))) {
    G.gruRzBackwardCore(dxPre, dhPreRz, dhPrev, drh, act, hPrev, B, H);
  }
}

// ---- Fused batch-1 steps: one call per streaming step (see assembly/step.ts) ----------------

type F = Float32Array;

/**
 * Pointers of the argument lists the step kernels saw recently. A typed array's buffer and
 * byteOffset never change, so the same array objects give the same pointers: a hit skips the
 * eight or nine ptr() lookups (a `.buffer` read each, ~15 ns) of a streaming step. A few slots,
 * one per cell being stepped (a stack steps one cell per layer), reused round robin. Only lists
 * wholly in WASM memory are kept.
 */
const STEP_SLOTS = 8;
const stepCache: { arrs: (F | undefined)[]; ptrs: number[] }[] = [];
let stepNext = 0;

function stepPtrs(n: number, a0: F, a1: F, a2: F, a3: F, a4: F, a5: F, a6?: F, a7?: F, a8?: F): number[] | null {
  for (let i = 0; i < stepCache.length; i++) {
    const e = stepCache[i]!, s = e.arrs;
    if (s[0] === a0 && s[1] === a1 && s[2] === a2 && s[3] === a3 && s[4] === a4 && s[5] === a5 && s[6] === a6 && s[7] === a7 && s[8] === a8 && s.length === n) return e.ptrs;
  }
  const arrs = [a0, a1, a2, a3, a4, a5, a6, a7, a8].slice(0, n);
  const ptrs = arrs.map((a) => ptr(a!));
  if (ptrs.some((q) => q < 0)) return null;
  const entry = { arrs, ptrs };
  if (stepCache.length < STEP_SLOTS) stepCache.push(entry);
  else stepCache[stepNext] = entry;
  stepNext = (stepNext + 1) % STEP_SLOTS;
  return ptrs;
}

/**
 * LSTM step for one row: pre = b + W_ih·x + W_hh·h [4H] (nX = 0: no input term; b then holds the
 * whole input projection), act = [σi, σf, tanh g, σo]; c = f·c + i·g and h = o·tanh(c) in place.
 * Bitwise the same as bias copy + gemv(acc) + gemv(acc) + lstmForward on either backend.
 */
export function lstmStep(h: Float32Array, c: Float32Array, act: Float32Array, pre: Float32Array, Wih: Float32Array, x: Float32Array, Whh: Float32Array, b: Float32Array, nX: number, H: number): void {
  const w = active();
  if (!w) return S.lstmStep(h, c, act, pre, Wih, x, Whh, b, nX, H);
  S.lstmStepCheck(h, c, act, pre, Wih, x, Whh, b, nX, H);
  const q = stepPtrs(8, h, c, act, pre, Wih, x, Whh, b);
  if (q !== null) {
    const helper = stepHelper(4 * H, nX + H);
    if (helper === null) return w.lstmStep(q[0]!, q[1]!, q[2]!, q[3]!, q[4]!, q[5]!, q[6]!, q[7]!, nX, H);
    sharedRows(helper, q[3]!, q[7]!, q[4]!, q[5]!, nX, q[3]!, q[3]!, q[6]!, q[0]!, H, 4 * H);
    return w.lstmForward(q[0]!, q[1]!, q[2]!, q[3]!, q[1]!, 1, H);
  }
  const p0 = ptr(h), p1 = ptr(c), p2 = ptr(act), p3 = ptr(pre), p4 = ptr(Wih), p5 = ptr(x), p6 = ptr(Whh), p7 = ptr(b);
  if ((p0 | p1 | p2 | p3 | p4 | p5 | p6 | p7) >= 0) return w.lstmStep(p0, p1, p2, p3, p4, p5, p6, p7, nX, H);
  if (!viaScratch([h, c, act, pre, Wih, x, Whh, b], [INOUT, INOUT, OUT, OUT, IN, IN, IN, IN], (p) => w.lstmStep(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!, nX, H))) {
    S.lstmStepCore(h, c, act, pre, Wih, x, Whh, b, nX, H);
  }
}

/**
 * GRU reset-after step for one row: xPre = b_ih + W_ih·x, hPre = b_hh + W_hh·h [3H] rows
 * [r, z, n] (nX = 0: xPre = b_ih), act = [r, z, n]; h = (1 − z)·n + z·h in place.
 */
export function gruStep(h: Float32Array, act: Float32Array, xPre: Float32Array, hPre: Float32Array, Wih: Float32Array, x: Float32Array, Whh: Float32Array, bIh: Float32Array, bHh: Float32Array, nX: number, H: number): void {
  const w = active();
  if (!w) return S.gruStep(h, act, xPre, hPre, Wih, x, Whh, bIh, bHh, nX, H);
  S.gruStepCheck(h, act, xPre, hPre, Wih, x, Whh, bIh, bHh, nX, H);
  const q = stepPtrs(9, h, act, xPre, hPre, Wih, x, Whh, bIh, bHh);
  if (q !== null) {
    const helper = stepHelper(3 * H, nX + H);
    if (helper === null) return w.gruStep(q[0]!, q[1]!, q[2]!, q[3]!, q[4]!, q[5]!, q[6]!, q[7]!, q[8]!, nX, H);
    sharedRows(helper, q[2]!, q[7]!, q[4]!, q[5]!, nX, q[3]!, q[8]!, q[6]!, q[0]!, H, 3 * H);
    return w.gruForward(q[0]!, q[1]!, q[2]!, q[3]!, q[0]!, 1, H);
  }
  const p0 = ptr(h), p1 = ptr(act), p2 = ptr(xPre), p3 = ptr(hPre), p4 = ptr(Wih), p5 = ptr(x), p6 = ptr(Whh), p7 = ptr(bIh), p8 = ptr(bHh);
  if ((p0 | p1 | p2 | p3 | p4 | p5 | p6 | p7 | p8) >= 0) return w.gruStep(p0, p1, p2, p3, p4, p5, p6, p7, p8, nX, H);
  if (!viaScratch([h, act, xPre, hPre, Wih, x, Whh, bIh, bHh], [INOUT, OUT, OUT, OUT, IN, IN, IN, IN, IN], (p) => w.gruStep(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!, p[8]!, nX, H))) {
    S.gruStepCore(h, act, xPre, hPre, Wih, x, Whh, bIh, bHh, nX, H);
  }
}

/** tanh RNN step for one row: pre = b + W_ih·x + W_hh·h [H] (nX = 0: b holds the input term); h = tanh(pre) in place. */
export function rnnStep(h: Float32Array, pre: Float32Array, Wih: Float32Array, x: Float32Array, Whh: Float32Array, b: Float32Array, nX: number, H: number): void {
  const w = active();
  if (!w) return S.rnnStep(h, pre, Wih, x, Whh, b, nX, H);
  S.rnnStepCheck(h, pre, Wih, x, Whh, b, nX, H);
  const q = stepPtrs(6, h, pre, Wih, x, Whh, b);
  if (q !== null) {
    const helper = stepHelper(H, nX + H);
    if (helper === null) return w.rnnStep(q[0]!, q[1]!, q[2]!, q[3]!, q[4]!, q[5]!, nX, H);
    sharedRows(helper, q[1]!, q[5]!, q[2]!, q[3]!, nX, q[1]!, q[1]!, q[4]!, q[0]!, H, H);
    return w.rnnForward(q[0]!, q[1]!, 1, H);
  }
  const p0 = ptr(h), p1 = ptr(pre), p2 = ptr(Wih), p3 = ptr(x), p4 = ptr(Whh), p5 = ptr(b);
  if ((p0 | p1 | p2 | p3 | p4 | p5) >= 0) return w.rnnStep(p0, p1, p2, p3, p4, p5, nX, H);
  if (!viaScratch([h, pre, Wih, x, Whh, b], [INOUT, OUT, IN, IN, IN, IN], (p) => w.rnnStep(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, nX, H))) {
    S.rnnStepCore(h, pre, Wih, x, Whh, b, nX, H);
  }
}
