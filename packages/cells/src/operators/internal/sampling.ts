// Token sampling from logits `[B×V]`: temperature softmax, then top-k and nucleus (top-p)
// filtering, then one categorical draw per row from a seeded kernels Rng. A Sampler owns its
// probability scratch `[B×V]` and its Rng; a TokenSampler (the rule, shared) owns its `[V]`
// scratch and sort order and draws from the caller's Rng. The logits stay the caller's.

import { Rng, softmaxRows } from '@rxrnn/kernels';
import { checkPositiveFinite, checkPositiveInt, checkUnitInterval, checkVector, describe } from './validate.js';

/** Sampling options shared by sample() and generate(). */
export interface SamplingOptions {
  /**
   * Divides the logits before the softmax: < 1 sharpens towards the most likely token, > 1
   * flattens towards uniform. A finite number > 0. Default 1.
   */
  temperature?: number;
  /**
   * Top-k filtering: only the k most probable tokens (ties broken towards the lower id) can be
   * drawn, renormalized among themselves. An integer ≥ 1; topK 1 is greedy (argmax) decoding.
   * Default: no limit.
   */
  topK?: number;
  /**
   * Nucleus (top-p) filtering: only the smallest set of most probable tokens whose probabilities
   * sum to at least topP can be drawn, renormalized among themselves (the most probable token is
   * always kept). Applied after topK. A number in (0, 1]. Default 1 (no filtering).
   */
  topP?: number;
  /**
   * Seed of the kernels Rng (xoshiro128**), one fresh Rng per subscription, so a fixed seed
   * reproduces the same tokens on every subscription. Default: a random seed.
   */
  seed?: number;
}

/** Sampling options after validation (resolveSampling), defaults filled in. */
export interface ResolvedSampling {
  /** Divides the logits before the softmax (> 0). */
  temperature: number;
  /** Only the topK most likely tokens are drawn from (Infinity: all). */
  topK: number;
  /** Only the smallest set of tokens whose probabilities sum to at least topP (1: all). */
  topP: number;
  /** The seed of the sampler's Rng; undefined: a random seed. */
  seed: number | undefined;
}

/**
 * Validates sampling options and fills in the defaults (temperature 1, topK Infinity, topP 1).
 * @throws RangeError naming the option and what was expected (`<where>: topK must be a positive integer, got 0`).
 */
export function resolveSampling(op: string, o: SamplingOptions = {}): ResolvedSampling {
  const seed = o.seed;
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
    throw new RangeError(`${op}: seed must be an integer, got ${describe(seed)}`);
  }
  return {
    temperature: o.temperature === undefined ? 1 : checkPositiveFinite(op, 'temperature', o.temperature),
    topK: o.topK === undefined ? Infinity : checkPositiveInt(op, 'topK', o.topK),
    topP: o.topP === undefined ? 1 : checkUnitInterval(op, 'topP', o.topP),
    seed,
  };
}

/**
 * Draws token ids from logits with the rule of sample() and generate() (temperature softmax, then
 * top-k, then top-p, then one categorical draw), from an Rng the caller owns: for callers that keep
 * one Rng per stream, such as a keyed engine with one Rng per key. Owns a probability scratch [V],
 * a copy of the row [V] and the sort order [V], cut once; the logits stay the caller's.
 *
 * @example
 * const sampler = new TokenSampler(model.vocabSize);
 * const options = resolveSampling('mine', { temperature: 0.8, topK: 10 });
 * const id = sampler.draw(model.step(tokens, state), 0, rng, options); // row 0 of the logits
 */
export class TokenSampler {
  /** V. */
  readonly vocabSize: number;
  readonly #x: Float32Array;
  readonly #probs: Float32Array;
  readonly #order: Int32Array;
  #row: Float32Array;
  /** Descending probability, ties towards the lower id: the filtered set is deterministic. */
  readonly #byProbDesc = (a: number, b: number): number => this.#row[b]! - this.#row[a]! || a - b;

  /** @throws RangeError unless vocabSize is a positive integer. */
  constructor(vocabSize: number) {
    const V = checkPositiveInt('TokenSampler', 'vocabSize', vocabSize);
    this.vocabSize = V;
    this.#x = new Float32Array(V);
    this.#probs = new Float32Array(V);
    this.#order = new Int32Array(V);
    this.#row = this.#probs;
  }

  /**
   * One token id from row `row` of `logits` [rows × V] (read, not changed), drawn with `rng` under
   * `options` (from resolveSampling). The caller validates the logits (finite) beforehand.
   */
  draw(logits: Float32Array, row: number, rng: Rng, options: ResolvedSampling): number {
    const V = this.vocabSize;
    const x = this.#x;
    const o = row * V;
    for (let i = 0; i < V; i++) x[i] = logits[o + i]!;
    softmaxRows(this.#probs, x, 1, V, options.temperature);
    return this.drawFromProbs(this.#probs, rng, options);
  }

  /** One token id from probabilities `p` [V] (a softmax row, filtered in place), drawn with `rng`. */
  drawFromProbs(p: Float32Array, rng: Rng, options: ResolvedSampling): number {
    const V = this.vocabSize;
    const { topK, topP } = options;
    if (topK < V || topP < 1) this.#filter(p, Math.min(topK, V), topP);
    return rng.categorical(p, V);
  }

  /** Zeroes every token outside the top-k / top-p set and renormalizes the rest in place. */
  #filter(p: Float32Array, k: number, topP: number): void {
    const V = this.vocabSize;
    const order = this.#order;
    for (let i = 0; i < V; i++) order[i] = i;
    this.#row = p;
    order.sort(this.#byProbDesc);
    // Keep the shortest prefix reaching topP of the total mass (float64 sums), at most k tokens.
    let total = 0;
    for (let i = 0; i < V; i++) total += p[i]!;
    let keep = k;
    if (topP < 1) {
      let cum = 0;
      for (let j = 0; j < k; j++) {
        cum += p[order[j]!]!;
        if (cum >= topP * total) {
          keep = j + 1;
          break;
        }
      }
    }
    let kept = 0;
    for (let j = 0; j < keep; j++) kept += p[order[j]!]!;
    for (let j = keep; j < V; j++) p[order[j]!] = 0;
    const inv = 1 / kept;
    for (let j = 0; j < keep; j++) {
      const i = order[j]!;
      p[i] = p[i]! * inv;
    }
  }
}

/** Per-subscription sampling machinery for B rows over a vocabulary of V. */
export class Sampler {
  readonly #op: string;
  readonly #o: ResolvedSampling;
  readonly #B: number;
  readonly #V: number;
  readonly #rng: Rng;
  readonly #probs: Float32Array;
  /** One subarray per row, made once: categorical() reads a row from index 0. */
  readonly #rows: Float32Array[];
  readonly #tokens: TokenSampler;

  constructor(op: string, options: ResolvedSampling, B: number, V: number) {
    this.#op = op;
    this.#o = options;
    this.#B = B;
    this.#V = V;
    this.#rng = new Rng(options.seed ?? Math.floor(Math.random() * 0x1_0000_0000) | 0);
    this.#probs = new Float32Array(B * V);
    this.#rows = Array.from({ length: B }, (_, b) => this.#probs.subarray(b * V, (b + 1) * V));
    this.#tokens = new TokenSampler(V);
  }

  /** Draws one token per row of `logits` `[B×V]` into `out` `[B]`; validates the logits first. */
  sampleInto(out: Int32Array, logits: Float32Array, step: number): void {
    checkVector(this.#op, logits, this.#B * this.#V, step, 'logits');
    softmaxRows(this.#probs, logits, this.#B, this.#V, this.#o.temperature);
    for (let b = 0; b < this.#B; b++) out[b] = this.#tokens.drawFromProbs(this.#rows[b]!, this.#rng, this.#o);
  }
}
