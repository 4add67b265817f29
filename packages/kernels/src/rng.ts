// Seeded random numbers: xoshiro128** (Blackman & Vigna) with its 128-bit state seeded by four
// splitmix32 outputs. All integer steps use Math.imul and >>> 0, so every JS engine and platform
// produces the same nextU32()/uniform() sequence for a seed. State is owned by the Rng instance.

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
const TWO_PI = 2 * Math.PI;
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** Length of the array returned by {@link Rng.getState}. */
export const RNG_STATE_LENGTH = 7;

/**
 * xoshiro128** generator.
 * - Seeding: splitmix32 (state += 0x9e3779b9; z ^= z >>> 16; z *= 0x21f0aaad; z ^= z >>> 15;
 *   z *= 0x735a2d97; z ^= z >>> 15) run four times from the 32-bit seed gives s0..s3.
 * - nextU32: r = rotl(s1·5, 7)·9, then t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
 *   s2 ^= t; s3 = rotl(s3, 11).
 * - uniform: nextU32() / 2³², in [0, 1) with 32 bits of resolution.
 * - normal: Box–Muller on (u1, u2) = (1 − uniform(), uniform()): r = √(−2 ln u1),
 *   returns r·cos(2πu2) and keeps r·sin(2πu2) for the next call (part of the saved state).
 *   These depend on Math.log/cos/sin, which are not bit-specified across engines.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = 0;
  private hasSpare = false;

  /**
   * A generator seeded by `seed`; the same seed gives the same numbers on every engine.
   *
   * @param seed - any integer; only its low 32 bits are used (default 0).
   * @throws RangeError unless `seed` is an integer.
   */
  constructor(seed = 0) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) {
      throw new TypeError(`Rng: seed must be an integer, got ${String(seed)}`);
    }
    let sm = seed >>> 0;
    const next = (): number => {
      sm = (sm + 0x9e3779b9) >>> 0;
      let z = sm;
      z ^= z >>> 16;
      z = Math.imul(z, 0x21f0aaad);
      z ^= z >>> 15;
      z = Math.imul(z, 0x735a2d97);
      z ^= z >>> 15;
      return z >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // An all-zero state would be a fixed point; splitmix32 cannot give four zeros, but be sure.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ s1) >>> 0;
    this.s1 = (s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Writes the next n nextU32() values into out[0..n) — the same numbers, and the state ends where
   * n calls would leave it — with the state in locals: several times faster per value (dropout
   * masks draw one per unit). Throws RangeError unless 0 ≤ n ≤ out.length.
   */
  fillU32(out: Uint32Array, n: number = out.length): void {
    if (!(out instanceof Uint32Array)) throw new TypeError('Rng.fillU32: out must be a Uint32Array');
    if (!Number.isSafeInteger(n) || n < 0 || n > out.length)
      throw new RangeError(`Rng.fillU32: n must be an integer in [0, ${out.length}], got ${String(n)}`);
    // int32 locals; a Uint32Array store keeps the 32 bits, so out holds exactly nextU32()'s values.
    let s0 = this.s0 | 0;
    let s1 = this.s1 | 0;
    let s2 = this.s2 | 0;
    let s3 = this.s3 | 0;
    for (let i = 0; i < n; i++) {
      const m = Math.imul(s1, 5);
      out[i] = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    this.s0 = s0 >>> 0;
    this.s1 = s1 >>> 0;
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal N(0, 1) by Box–Muller (pairs; the second value is cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log never sees 0
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(TWO_PI * u2);
    this.hasSpare = true;
    return r * Math.cos(TWO_PI * u2);
  }

  /**
   * Index i in [0, n) drawn with probability probs[i] / Σprobs (weights need not sum to 1).
   * Throws RangeError on a negative or non-finite weight or a zero total.
   */
  categorical(probs: Float32Array | Float64Array, n: number): number {
    if (!Number.isSafeInteger(n) || n < 1)
      throw new RangeError(`categorical: n must be a positive integer, got ${String(n)}`);
    if (!(probs instanceof Float32Array || probs instanceof Float64Array)) {
      throw new TypeError('categorical: probs must be a Float32Array or Float64Array');
    }
    if (probs.length !== n) throw new RangeError(`categorical: probs length ${probs.length}, expected n = ${n}`);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = probs[i]!;
      if (!(p >= 0) || p === Infinity)
        throw new RangeError(`categorical: probs[${i}] = ${p}, expected a finite weight >= 0`);
      total += p;
    }
    if (!(total > 0) || !Number.isFinite(total))
      throw new RangeError(`categorical: probs sum to ${total}, expected a finite sum > 0`);
    const u = this.uniform() * total;
    let acc = 0;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const p = probs[i]!;
      if (p > 0) last = i;
      acc += p;
      if (u < acc) return i;
    }
    // Rounding can leave u just above the running sum: return the last index with weight.
    return last;
  }

  /** Snapshot: [s0, s1, s2, s3, hasSpare, spare (float64 as two words)]. */
  getState(): Uint32Array {
    F64[0] = this.spare;
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3, this.hasSpare ? 1 : 0, U32[0]!, U32[1]!);
  }

  /** Restores a snapshot from {@link getState}; the sequence continues exactly. */
  setState(s: Uint32Array): void {
    if (!(s instanceof Uint32Array)) throw new TypeError('Rng.setState: state must be a Uint32Array');
    if (s.length !== RNG_STATE_LENGTH)
      throw new RangeError(`Rng.setState: state length ${s.length}, expected ${RNG_STATE_LENGTH}`);
    if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) throw new RangeError('Rng.setState: xoshiro state words are all zero');
    if (s[4]! > 1) throw new RangeError(`Rng.setState: spare flag ${s[4]}, expected 0 or 1`);
    this.s0 = s[0]!;
    this.s1 = s[1]!;
    this.s2 = s[2]!;
    this.s3 = s[3]!;
    this.hasSpare = s[4] === 1;
    U32[0] = s[5]!;
    U32[1] = s[6]!;
    this.spare = F64[0]!;
  }
}
