// Loss metrics for language models: nats per token, bits per token (bpc for characters) and
// perplexity, always derived from a loss SUM and the number of predictions it covers.
// Pure functions and a small float64 accumulator; no buffers.

/** A mean loss in every unit people quote, plus the count it is the mean over. */
export interface LossMetrics {
  /** Mean cross-entropy in nats per token (natural log). */
  readonly nats: number;
  /** Mean cross-entropy in bits per token (bits per char for a char model). */
  readonly bpc: number;
  /** exp(nats): the effective branching factor. */
  readonly perplexity: number;
  /** Number of predictions the mean is over. */
  readonly count: number;
}

/** Nats (natural-log units) to bits: divide by ln 2. */
export const natsToBits = (nats: number): number => nats / Math.LN2;
/** Bits to nats: multiply by ln 2. */
export const bitsToNats = (bits: number): number => bits * Math.LN2;

/** Turns a loss sum over `count` predictions into labelled means; refuses an empty count. */
export function lossMetrics(lossSum: number, count: number): LossMetrics {
  if (!Number.isInteger(count) || count <= 0) {
    throw new RangeError(`lossMetrics: count must be a positive integer, got ${count}`);
  }
  if (!Number.isFinite(lossSum)) {
    throw new RangeError(`lossMetrics: loss sum must be finite, got ${lossSum} over ${count} predictions`);
  }
  const nats = lossSum / count;
  return { nats, bpc: natsToBits(nats), perplexity: Math.exp(nats), count };
}

/** Running mean of losses in float64 (window losses arrive as sums over their own counts). */
export class LossMeter {
  private sum = 0;
  private n = 0;

  /** Adds a sum of per-token losses (nats) over `count` predictions. */
  add(lossSum: number, count: number): void {
    this.sum += lossSum;
    this.n += count;
  }

  /** Predictions accumulated since the last reset. */
  get count(): number {
    return this.n;
  }

  /** Mean so far, or null before the first prediction. */
  metrics(): LossMetrics | null {
    return this.n === 0 ? null : lossMetrics(this.sum, this.n);
  }

  /** Raw sum and count, for checkpoints (a resumed run continues the same running mean). */
  snapshot(): {
    /** Sum of the losses, nats. */
    lossSum: number;
    /** Predictions in the sum. */
    lossCount: number;
  } {
    return { lossSum: this.sum, lossCount: this.n };
  }

  /** Continues from a {@link LossMeter.snapshot}. */
  restore(lossSum: number, lossCount: number): void {
    this.sum = lossSum;
    this.n = lossCount;
  }

  /** Starts over from nothing. */
  reset(): void {
    this.sum = 0;
    this.n = 0;
  }
}
