// The non-finite gradient policy shared by every clipping function and operator, and the error
// thrown under policy 'error'. Reads the caller's gradient buffers; zeroes them only under 'zero'.
import { describe } from '@rxrnn/kernels/internal';
import type { Gradients, NonFiniteLocation } from './internal/gradients.js';
import { firstNonFinite, zeroAll } from './internal/gradients.js';

/**
 * What to do when a gradient holds NaN or ±Infinity:
 * - 'error' (the default): throw a {@link NonFiniteGradientError} naming the tensor and the first
 *   bad index; gradients are left untouched.
 * - 'skip': leave the gradients untouched and report `skipped: true`; the caller must then skip
 *   the optimizer update.
 * - 'zero': set every gradient (all tensors) to 0 and report `zeroed: true`.
 *
 * Why 'error' is the default: it is the only policy that stays safe for a caller who ignores the
 * result. Under 'skip' a caller who forgets to check `skipped` writes NaN into its parameters;
 * under 'zero' a momentum or weight-decay optimizer still moves the parameters. A non-finite
 * gradient almost always means a diverged model or a bug, which should be loud unless the caller
 * opted into riding it out (long online training typically picks 'skip').
 */
export type NonFinitePolicy = 'error' | 'skip' | 'zero';

/** Thrown under policy 'error'; carries where the first non-finite element is. */
export class NonFiniteGradientError extends RangeError {
  /** Index of the tensor in the gradient set (0 for a flat buffer). */
  readonly tensor: number;
  /** Index of the element inside that tensor. */
  readonly index: number;
  /** The element: NaN, Infinity or -Infinity. */
  readonly value: number;

  /**
   * The error for the first non-finite element that `where` found.
   *
   * @param where - the function or operator that found it (the message's prefix).
   * @param location - the first non-finite element.
   */
  constructor(where: string, location: NonFiniteLocation) {
    super(
      `${where}: gradient tensor ${location.tensor} holds ${location.value} at index ${location.index}, ` +
        `expected finite values (nonFinite: 'error')`,
    );
    this.name = 'NonFiniteGradientError';
    this.tensor = location.tensor;
    this.index = location.index;
    this.value = location.value;
  }
}

/** What a policy did: the common tail of every clipping result. */
export interface NonFiniteOutcome {
  /** True under policy 'skip' when a non-finite element was found: gradients are untouched. */
  readonly skipped: boolean;
  /** True under policy 'zero' when a non-finite element was found: all gradients are now 0. */
  readonly zeroed: boolean;
  /** The first non-finite element, or null when every gradient was finite. */
  readonly nonFinite: NonFiniteLocation | null;
}

export const FINITE: NonFiniteOutcome = Object.freeze({ skipped: false, zeroed: false, nonFinite: null });

export function checkPolicy(where: string, value: unknown): NonFinitePolicy {
  if (value !== 'error' && value !== 'skip' && value !== 'zero') {
    throw new RangeError(`${where}: nonFinite must be 'error', 'skip' or 'zero', got ${describe(value)}`);
  }
  return value;
}

/**
 * Applies the policy once the caller knows (from a norm or a scan) that something is non-finite:
 * locates the first bad element, then throws, or zeroes, or reports.
 */
export function applyPolicy(where: string, grads: Gradients, policy: NonFinitePolicy): NonFiniteOutcome {
  const location = firstNonFinite(grads);
  // Callers only come here after seeing a non-finite norm, so `location` exists; the guard keeps
  // a wrong caller from reporting a skip that never happened.
  if (location === null) return FINITE;
  if (policy === 'error') throw new NonFiniteGradientError(where, location);
  if (policy === 'zero') {
    zeroAll(grads);
    return { skipped: false, zeroed: true, nonFinite: location };
  }
  return { skipped: true, zeroed: false, nonFinite: location };
}
