// The fused batch-1 step kernels: one call per streaming step (see assembly/step.ts), state
// updated in place. What Cell.step, RnnStack steps, CharModel.step and generate() run at B = 1.
// On wasm, the pointers of recent argument lists are cached by array identity, and large steps are
// shared with the helper thread of setStepThreads (step-threads.ts); the native addon takes the
// arrays directly and shares large steps with its own thread pool when setStepThreads(2) asks.
import { active, activeNative } from './backend.js';
import { IN, INOUT, OUT } from './dispatch.js';
import type { NativeKernels } from './native.js';
import * as S from './reference/step.js';
import { sharedRows, stepHelper } from './step-threads.js';
import { ptr, viaScratch } from './wasm-memory.js';

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
    const e = stepCache[i]!;
    const s = e.arrs;
    const same = s[0] === a0 && s[1] === a1 && s[2] === a2 && s[3] === a3 && s[4] === a4 && s[5] === a5;
    if (same && s[6] === a6 && s[7] === a7 && s[8] === a8 && s.length === n) return e.ptrs;
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
 * The native twin of that cache: argument lists the addon has bound to one of its per-thread
 * slots (it keeps their data pointers), so a repeated step passes two numbers instead of eight or
 * nine arrays (~0.2 µs less per call). The arrays stay referenced here while bound, and every call
 * checks their current lengths first (the S.*Check above), so a detached or shrunk buffer is
 * refused before the addon reads a pointer. A slot rebound by another realm on this thread makes
 * stepBound return false, and the list is bound again.
 */
const NATIVE_SLOTS = 16;
const nativeCache: { arrs: F[]; slot: number; token: number }[] = [];
let nativeNext = 0;

function nativeStep(
  n: NativeKernels,
  kind: number,
  nX: number,
  H: number,
  count: number,
  a0: F,
  a1: F,
  a2: F,
  a3: F,
  a4: F,
  a5: F,
  a6?: F,
  a7?: F,
  a8?: F,
): void {
  for (let i = 0; i < nativeCache.length; i++) {
    const e = nativeCache[i]!;
    const s = e.arrs;
    const same = s[0] === a0 && s[1] === a1 && s[2] === a2 && s[3] === a3 && s[4] === a4 && s[5] === a5;
    if (same && s[6] === a6 && s[7] === a7 && s[8] === a8 && s.length === count) {
      if (n.stepBound(e.slot, e.token, kind, nX, H)) return;
      e.token = n.bindStep(e.slot, ...s);
      n.stepBound(e.slot, e.token, kind, nX, H);
      return;
    }
  }
  const arrs = [a0, a1, a2, a3, a4, a5, a6, a7, a8].slice(0, count) as F[];
  const slot = nativeCache.length < NATIVE_SLOTS ? nativeCache.length : nativeNext;
  const entry = { arrs, slot, token: n.bindStep(slot, ...arrs) };
  if (nativeCache.length < NATIVE_SLOTS) nativeCache.push(entry);
  else nativeCache[nativeNext] = entry;
  nativeNext = (nativeNext + 1) % NATIVE_SLOTS;
  n.stepBound(slot, entry.token, kind, nX, H);
}

/**
 * Fused LSTM step for one row (batch 1), the state updated in place:
 * `pre = b + W_ih·x + W_hh·h` `[4H]` rows `[i, f, g, o]`, `act = [σ(i), σ(f), tanh(g), σ(o)]`,
 * `c = f·c + i·g`, `h = o·tanh(c)`. With `nX = 0` there is no input term (`b` then holds the whole
 * input projection, e.g. an embedding row plus bias). Bitwise the same as a bias copy, two
 * accumulating `gemv`s and `lstmForward`, on either backend.
 *
 * @param h - `[H]`, read and overwritten. @param c - `[H]`, read and overwritten.
 * @param act - `[4H]` output. @param pre - `[4H]` scratch output.
 * @param Wih - `[4H × nX]`. @param x - `[nX]`. @param Whh - `[4H × H]`. @param b - `[4H]`.
 * @throws RangeError/TypeError when a length does not match nX and H (nothing is written).
 */
export function lstmStep(h: F, c: F, act: F, pre: F, Wih: F, x: F, Whh: F, b: F, nX: number, H: number): void {
  S.lstmStepCheck(h, c, act, pre, Wih, x, Whh, b, nX, H);
  const n = activeNative();
  if (n !== null) {
    nativeStep(n, 0, nX, H, 8, h, c, act, pre, Wih, x, Whh, b);
    return;
  }
  const w = active();
  if (w === null) {
    S.lstmStepCore(h, c, act, pre, Wih, x, Whh, b, nX, H);
    return;
  }
  const q = stepPtrs(8, h, c, act, pre, Wih, x, Whh, b);
  if (q === null) {
    const io = [INOUT, INOUT, OUT, OUT, IN, IN, IN, IN];
    const run = (p: number[]) => w.lstmStep(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!, nX, H);
    if (!viaScratch([h, c, act, pre, Wih, x, Whh, b], io, run)) S.lstmStepCore(h, c, act, pre, Wih, x, Whh, b, nX, H);
    return;
  }
  const helper = stepHelper(4 * H, nX + H);
  if (helper === null) {
    w.lstmStep(q[0]!, q[1]!, q[2]!, q[3]!, q[4]!, q[5]!, q[6]!, q[7]!, nX, H);
    return;
  }
  sharedRows(helper, q[3]!, q[7]!, q[4]!, q[5]!, nX, q[3]!, q[3]!, q[6]!, q[0]!, H, 4 * H);
  w.lstmForward(q[0]!, q[1]!, q[2]!, q[3]!, q[1]!, 1, H);
}

/**
 * Fused reset-after GRU step for one row (batch 1), `h` updated in place:
 * `xPre = b_ih + W_ih·x`, `hPre = b_hh + W_hh·h` (`[3H]` rows `[r, z, n]`; with `nX = 0`,
 * `xPre = b_ih`), `act = [r, z, n]`, `h = (1 − z)·n + z·h`.
 *
 * @param Wih - `[3H × nX]`. @param Whh - `[3H × H]`. @param bIh - `[3H]`. @param bHh - `[3H]`.
 * @throws RangeError/TypeError when a length does not match nX and H (nothing is written).
 */
export function gruStep(
  h: F,
  act: F,
  xPre: F,
  hPre: F,
  Wih: F,
  x: F,
  Whh: F,
  bIh: F,
  bHh: F,
  nX: number,
  H: number,
): void {
  S.gruStepCheck(h, act, xPre, hPre, Wih, x, Whh, bIh, bHh, nX, H);
  const n = activeNative();
  if (n !== null) {
    nativeStep(n, 1, nX, H, 9, h, act, xPre, hPre, Wih, x, Whh, bIh, bHh);
    return;
  }
  const w = active();
  if (w === null) {
    S.gruStepCore(h, act, xPre, hPre, Wih, x, Whh, bIh, bHh, nX, H);
    return;
  }
  const q = stepPtrs(9, h, act, xPre, hPre, Wih, x, Whh, bIh, bHh);
  if (q === null) {
    const io = [INOUT, OUT, OUT, OUT, IN, IN, IN, IN, IN];
    const run = (p: number[]) => w.gruStep(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!, p[8]!, nX, H);
    if (!viaScratch([h, act, xPre, hPre, Wih, x, Whh, bIh, bHh], io, run)) {
      S.gruStepCore(h, act, xPre, hPre, Wih, x, Whh, bIh, bHh, nX, H);
    }
    return;
  }
  const helper = stepHelper(3 * H, nX + H);
  if (helper === null) {
    w.gruStep(q[0]!, q[1]!, q[2]!, q[3]!, q[4]!, q[5]!, q[6]!, q[7]!, q[8]!, nX, H);
    return;
  }
  sharedRows(helper, q[2]!, q[7]!, q[4]!, q[5]!, nX, q[3]!, q[8]!, q[6]!, q[0]!, H, 3 * H);
  w.gruForward(q[0]!, q[1]!, q[2]!, q[3]!, q[0]!, 1, H);
}

/**
 * Fused tanh RNN step for one row (batch 1), `h` updated in place:
 * `pre = b + W_ih·x + W_hh·h` `[H]`, `h = tanh(pre)` (with `nX = 0`, `b` holds the input term).
 *
 * @param Wih - `[H × nX]`. @param Whh - `[H × H]`. @param b - `[H]`.
 * @throws RangeError/TypeError when a length does not match nX and H (nothing is written).
 */
export function rnnStep(h: F, pre: F, Wih: F, x: F, Whh: F, b: F, nX: number, H: number): void {
  S.rnnStepCheck(h, pre, Wih, x, Whh, b, nX, H);
  const n = activeNative();
  if (n !== null) {
    nativeStep(n, 2, nX, H, 6, h, pre, Wih, x, Whh, b);
    return;
  }
  const w = active();
  if (w === null) {
    S.rnnStepCore(h, pre, Wih, x, Whh, b, nX, H);
    return;
  }
  const q = stepPtrs(6, h, pre, Wih, x, Whh, b);
  if (q === null) {
    const io = [INOUT, OUT, IN, IN, IN, IN];
    const run = (p: number[]) => w.rnnStep(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, nX, H);
    if (!viaScratch([h, pre, Wih, x, Whh, b], io, run)) S.rnnStepCore(h, pre, Wih, x, Whh, b, nX, H);
    return;
  }
  const helper = stepHelper(H, nX + H);
  if (helper === null) {
    w.rnnStep(q[0]!, q[1]!, q[2]!, q[3]!, q[4]!, q[5]!, nX, H);
    return;
  }
  sharedRows(helper, q[1]!, q[5]!, q[2]!, q[3]!, nX, q[1]!, q[1]!, q[4]!, q[0]!, H, H);
  w.rnnForward(q[0]!, q[1]!, 1, H);
}
