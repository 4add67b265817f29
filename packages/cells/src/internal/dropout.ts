// Dropout machinery of the cells, stacks and char model: inverted-dropout masks (kept units scaled
// by 1/(1−p)) drawn from the kernels' seeded Rng, one generator per (window seed, global batch row,
// mask stream), so a batch split across threads draws the masks of the whole batch; masking loops.
// Masks are the caller's buffers.
import { Rng } from '@rxrnn/kernels';
import type { DropoutDraw } from '../types.js';
import { checkDim, describe } from './checks.js';

/** Mask streams: each mask of a model draws from its own generators (see rowRng). */
export const MASK_STREAM = {
  embedding: 1,
  output: 2,
  /** Stack layer k: input + 4k, recurrent + 4k, between + 4k (the layer's output to layer k+1). */
  input: 16,
  recurrent: 17,
  between: 18,
} as const;

/** A dropout probability: a finite number in [0, 1) (p = 1 would scale the kept units by ∞). */
export function checkDropoutRate(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
    throw new RangeError(`${where}: ${name} must be a number in [0, 1), got ${describe(v)}`);
  }
  return v;
}

/** Validates a draw; returns [seed as uint32, firstRow]. */
export function checkDraw(where: string, draw: DropoutDraw): [number, number] {
  if (draw === null || typeof draw !== 'object')
    throw new TypeError(`${where}: dropout must be a {seed, firstRow?} object, got ${describe(draw)}`);
  const seed = draw.seed;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
    throw new RangeError(`${where}: dropout.seed must be an integer, got ${describe(seed)}`);
  return [seed >>> 0, checkDim(where, 'dropout.firstRow', draw.firstRow ?? 0)];
}

/** MurmurHash3's 32-bit finalizer: a bijection that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The generator of one batch row's mask: Rng(fmix32(fmix32(seed ⊕ stream·φ) ⊕ (row + 1)·c)). */
function rowRng(seed: number, row: number, stream: number): Rng {
  const s = fmix32((seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0);
  return new Rng(fmix32((s ^ Math.imul(row + 1, 0x27d4eb2f)) >>> 0));
}

/** Scratch for one row's random words (grown on demand; masks are drawn on one thread at a time). */
let words = new Uint32Array(0);

/**
 * Fills out [T·B × n] (time-major, row t·B + b) with an inverted-dropout mask: each element is 0
 * with probability p, else 1/(1 − p) (rounded to float32). Row b's T·n values come from its own
 * Rng in (t, j) order, element dropped when nextU32() < p·2³² (the same as uniform() < p).
 * T = 1 gives a variational mask [B × n], applied unchanged at every step of a window.
 */
export function fillDropoutMask(
  out: Float32Array,
  p: number,
  T: number,
  B: number,
  n: number,
  seed: number,
  firstRow: number,
  stream: number,
): void {
  const keep = Math.fround(1 / (1 - p));
  const threshold = p * 4294967296;
  const stride = B * n;
  const count = T * n;
  if (words.length < count) words = new Uint32Array(count);
  for (let b = 0; b < B; b++) {
    rowRng(seed, firstRow + b, stream).fillU32(words, count);
    for (let t = 0; t < T; t++) {
      const o = t * stride + b * n;
      const w = t * n;
      for (let j = 0; j < n; j++) out[o + j] = words[w + j]! < threshold ? 0 : keep;
    }
  }
}

/** x[i] *= m[i] over n elements (applies a mask in place, forward and backward alike). */
export function maskInPlace(x: Float32Array, m: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] = x[i]! * m[i]!;
}

/** out[i] = x[i]·m[i] over n elements. */
export function maskInto(out: Float32Array, x: Float32Array, m: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i]! * m[i]!;
}

/** x[r, j] *= m[r mod B, j] for the T·B rows of n values: a per-row mask [B × n] at every step. */
export function maskRowsInPlace(x: Float32Array, m: Float32Array, rows: number, B: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    const mo = (r % B) * n;
    for (let j = 0; j < n; j++) x[o + j] = x[o + j]! * m[mo + j]!;
  }
}

/** out[r, j] = x[r, j]·m[r mod B, j] for T·B rows of n values. */
export function maskRowsInto(
  out: Float32Array,
  x: Float32Array,
  m: Float32Array,
  rows: number,
  B: number,
  n: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    const mo = (r % B) * n;
    for (let j = 0; j < n; j++) out[o + j] = x[o + j]! * m[mo + j]!;
  }
}
