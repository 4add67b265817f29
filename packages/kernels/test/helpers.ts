// Test helpers: seeded random arrays (plain or in WASM memory) and max-difference measures.
import { allocF32, getBackend, type Rng, setBackend } from '../src/index.js';

export type Place = 'wasm-memory' | 'plain';

/** A Float32Array of n values in [lo, hi), in WASM memory (allocF32) or an ordinary array. */
export function rand(rng: Rng, n: number, place: Place, lo = -1, hi = 1): Float32Array {
  const a = place === 'wasm-memory' ? allocF32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.uniform();
  return a;
}

/** Copy of a into the same kind of storage. */
export function copy(a: Float32Array, place: Place): Float32Array {
  const b = place === 'wasm-memory' ? allocF32(a.length) : new Float32Array(a.length);
  b.set(a);
  return b;
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d;
  }
  return m;
}

/** Largest |a − b| / (1 + scale) over elements: relative error with an absolute floor. */
export function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>, scale: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / (1 + Math.abs(scale[i]!));
    if (!(d <= m)) m = d;
  }
  return m;
}

export const abs = (a: Float32Array): Float32Array => a.map(Math.abs);

/**
 * The fast backends this process can run (native where the addon loads, wasm where SIMD128
 * validates): kernel specs run once on each, against the twin.
 */
export const FAST_BACKENDS: ('native' | 'wasm')[] = (['native', 'wasm'] as const).filter((b) => {
  const before = getBackend();
  try {
    setBackend(b);
    return true;
  } catch {
    return false;
  } finally {
    setBackend(before);
  }
});
