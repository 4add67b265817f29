// Shared machinery for every clipping function and operator: a gradient set is one Float32Array
// or a list of views (tensors); these helpers read them (norms, first bad element) or zero them.
// The caller owns the buffers; nothing here allocates per call except error messages.
import { checkPositiveFinite, describe, fail } from '@rxrnn/kernels/internal';

export { describe };

import { sumSquares } from '@rxrnn/kernels';

/** One flat gradient buffer, or a list of tensors (usually views into one flat buffer). */
export type Gradients = Float32Array | readonly Float32Array[];

/**
 * 2 or Infinity: the norms of global-norm clipping and monitoring (PyTorch's `norm_type` 2 and
 * inf). TypeScript has no literal type for Infinity, so other numbers are rejected at run time.
 */
export type NormType = number;

/** Where the first non-finite gradient element sits. */
export interface NonFiniteLocation {
  /** Tensor index in the list (0 for a single Float32Array). */
  readonly tensor: number;
  /** Element index inside that tensor. */
  readonly index: number;
  /** The element: NaN, Infinity or -Infinity. */
  readonly value: number;
}

/** Checks the shape of a gradient set once, so the loops below can trust it. */
export function checkGradients(where: string, grads: unknown): asserts grads is Gradients {
  if (grads instanceof Float32Array) return;
  if (!Array.isArray(grads)) {
    throw new TypeError(`${where}: grads must be a Float32Array or an array of Float32Arrays, got ${describe(grads)}`);
  }
  for (let i = 0; i < grads.length; i++) {
    if (!(grads[i] instanceof Float32Array)) {
      throw new TypeError(`${where}: grads[${i}] must be a Float32Array, got ${describe(grads[i])}`);
    }
  }
}

// Indexing helpers instead of wrapping a lone Float32Array in a new array: a trainer calls these
// on every step and the flat-buffer case should not allocate.
export function tensorCount(grads: Gradients): number {
  return grads instanceof Float32Array ? 1 : grads.length;
}

export function tensorAt(grads: Gradients, i: number): Float32Array {
  return grads instanceof Float32Array ? grads : grads[i]!;
}

/**
 * Norm of the concatenation of all tensors. L2 sums the squares in float64 with kernels'
 * sumSquares (a float32 square is exact in float64 and even 2^32 of the largest ones stay below
 * float64's range, so the sum is non-finite exactly when some element is). Inf is a local loop:
 * a max has to return NaN as soon as it meets one, and kernels' maxAbs lets a later element
 * replace a NaN (maxAbs([NaN, 1]) is 1), which would hide a NaN gradient from the policy.
 */
export function totalNorm(grads: Gradients, normType: NormType): number {
  const count = tensorCount(grads);
  if (normType === 2) {
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const g = tensorAt(grads, i);
      sum += sumSquares(g, g.length);
    }
    return Math.sqrt(sum);
  }
  let max = 0;
  for (let t = 0; t < count; t++) {
    const g = tensorAt(grads, t);
    for (let i = 0; i < g.length; i++) {
      const a = Math.abs(g[i]!);
      if (a > max) max = a;
      else if (Number.isNaN(a)) return NaN;
    }
  }
  return max;
}

/** The first NaN/±Inf element in tensor order, or null when everything is finite. */
export function firstNonFinite(grads: Gradients): NonFiniteLocation | null {
  const count = tensorCount(grads);
  for (let t = 0; t < count; t++) {
    const g = tensorAt(grads, t);
    for (let i = 0; i < g.length; i++) {
      // v - v is 0 for every finite v and NaN for NaN and ±Inf: one test catches all three.
      if (g[i]! - g[i]! !== 0) return { tensor: t, index: i, value: g[i]! };
    }
  }
  return null;
}

export function zeroAll(grads: Gradients): void {
  const count = tensorCount(grads);
  for (let i = 0; i < count; i++) tensorAt(grads, i).fill(0);
}

/** maxNorm / limit must be a finite number > 0 (0 would zero every gradient, NaN would poison them). */
export const checkPositive = checkPositiveFinite;

export function checkNormType(where: string, value: unknown): NormType {
  if (value !== 2 && value !== Infinity) fail(where, 'normType', '2 or Infinity', value);
  return value;
}
