// clipByValue: PyTorch's clip_grad_value_ (char-rnn's ±5 clamp), in place: every element is
// clamped to [-limit, limit] on its own. The caller owns `grads`.
import type { Gradients } from './internal/gradients.js';
import { checkGradients, checkPositive, firstNonFinite, tensorAt, tensorCount } from './internal/gradients.js';
import type { NonFiniteOutcome, NonFinitePolicy } from './non-finite.js';
import { applyPolicy, checkPolicy, FINITE } from './non-finite.js';

/** Options of {@link clipByValue}. */
export interface ValueClipOptions {
  /** What to do with NaN/±Inf gradients; see {@link NonFinitePolicy}. Default 'error'. */
  nonFinite?: NonFinitePolicy;
}

export interface ValueClipResult extends NonFiniteOutcome {
  /** How many elements were outside [-limit, limit] and got clamped. */
  readonly clippedCount: number;
  /** True when at least one element was clamped. */
  readonly clipped: boolean;
}

/**
 * Clamps every gradient element to [-limit, limit] in place, as PyTorch's `clip_grad_value_`.
 * Porting note: PyTorch clamps ±Inf to ±limit and keeps NaN; here non-finite elements go through
 * the nonFinite policy like every other clipping function.
 */
export function clipByValue(grads: Gradients, limit: number, options: ValueClipOptions = {}): ValueClipResult {
  const where = 'clipByValue';
  checkGradients(where, grads);
  checkPositive(where, 'limit', limit);
  const policy = checkPolicy(where, options.nonFinite ?? 'error');
  // Scan before clamping: under 'skip' nothing may have been written when the bad element turns up.
  if (firstNonFinite(grads) !== null) return { clippedCount: 0, clipped: false, ...applyPolicy(where, grads, policy) };
  // PyTorch compares float32 elements with the bound cast to float32; so do we, so that an element
  // equal to fround(limit) is not counted as clamped.
  const hi = Math.fround(limit);
  let clippedCount = 0;
  const count = tensorCount(grads);
  for (let t = 0; t < count; t++) {
    const g = tensorAt(grads, t);
    for (let i = 0; i < g.length; i++) {
      const v = g[i]!;
      if (v > hi) {
        g[i] = hi;
        clippedCount++;
      } else if (v < -hi) {
        g[i] = -hi;
        clippedCount++;
      }
    }
  }
  return { clippedCount, clipped: clippedCount > 0, ...FINITE };
}
