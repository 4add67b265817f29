// detectExplosions(): flags gradient norms far above their recent level. Input: a stream of norms
// (e.g. from gradientNorms()); output: one verdict per norm. Keeps a ring of the last `window` norms.

import { checkPositiveFinite, checkPositiveInt, describe } from '@rxrnn/kernels/internal';
import type { OperatorFunction } from 'rxjs';
import { map, Observable } from 'rxjs';

/** Options of the {@link detectExplosions} operator. */
export interface DetectExplosionsOptions {
  /** A norm explodes when it exceeds factor × level; finite and > 0. Default 10. */
  factor?: number;
  /** How many recent finite norms form the level (their median); integer ≥ 1. Default 20. */
  window?: number;
  /** How many finite norms must have been seen before anything finite is flagged; integer ≥ 1, default = window. */
  warmup?: number;
}

/** What {@link detectExplosions} emits for each gradient norm. */
export interface ExplosionVerdict {
  /** 0-based index of this norm within the subscription. */
  readonly step: number;
  /** The norm as received. */
  readonly norm: number;
  /** Median of the previous (up to `window`) finite norms, not including this one; null before the first. */
  readonly level: number | null;
  /** True when norm is non-finite, or when warmup is over and norm > factor × level. */
  readonly exploding: boolean;
}

/**
 * The rule: level = median of the last `window` finite norms before this one; a norm explodes when
 * it is NaN/±Inf (always), or when at least `warmup` finite norms came before it and
 * norm > factor × level. Every finite norm, flagged or not, enters the window: the median ignores
 * isolated spikes, while a lasting change of scale becomes the new level after about window/2 steps.
 * Non-finite norms never enter the window. A negative or non-number norm errors the stream.
 * @throws RangeError for a bad option (at once)
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { detectExplosions } from '@rxrnn/clipping';
 * from([1, 1.2, 0.9, 1.1, 40, 1])
 *   .pipe(detectExplosions({ window: 4, factor: 10 }))
 *   .subscribe((v) => v.exploding && console.log(`step ${v.step}: ${v.norm} vs level ${v.level}`)); // step 4
 * ```
 */
export function detectExplosions(options: DetectExplosionsOptions = {}): OperatorFunction<number, ExplosionVerdict> {
  const factor = checkPositiveFinite('detectExplosions', 'factor', options.factor ?? 10);
  const window = checkPositiveInt('detectExplosions', 'window', options.window ?? 20);
  const warmup = checkPositiveInt('detectExplosions', 'warmup', options.warmup ?? window);
  return (source) =>
    new Observable<ExplosionVerdict>((subscriber) => {
      // Per subscription: a ring of recent finite norms and a scratch copy sorted for the median,
      // both allocated once so the per-norm work allocates only the verdict.
      const ring = new Float64Array(window);
      const sorted = new Float64Array(window);
      let filled = 0;
      let next = 0;
      let seen = 0;
      let step = 0;
      return source
        .pipe(
          map((norm) => {
            const at = step++;
            if (typeof norm !== 'number' || norm < 0) {
              throw new RangeError(
                `detectExplosions: norm must be a number >= 0 or NaN/Infinity, got ${describe(norm)} at step ${at}`,
              );
            }
            let level: number | null = null;
            if (filled > 0) {
              sorted.set(ring.subarray(0, filled));
              const s = sorted.subarray(0, filled).sort();
              const mid = filled >> 1;
              level = filled % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
            }
            if (!Number.isFinite(norm)) return { step: at, norm, level, exploding: true };
            const exploding = seen >= warmup && level !== null && norm > factor * level;
            // Every finite norm joins the window, flagged or not (see the rule above).
            ring[next] = norm;
            next = (next + 1) % window;
            if (filled < window) filled++;
            seen++;
            return { step: at, norm, level, exploding };
          }),
        )
        .subscribe(subscriber);
    });
}
