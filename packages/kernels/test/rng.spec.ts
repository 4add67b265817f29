// Rng: the documented algorithm checked against an independent BigInt implementation, determinism,
// state save/restore (including a cached Box–Muller spare), seed sensitivity and distributions.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/index.js';

/** Independent oracle: splitmix32 + xoshiro128** written with BigInt and explicit 2^32 masks. */
function bigIntXoshiro(seed: number): () => number {
  const M = 0xffffffffn;
  let sm = BigInt(seed >>> 0);
  const splitmix = (): bigint => {
    sm = (sm + 0x9e3779b9n) & M;
    let z = sm;
    z = ((z ^ (z >> 16n)) * 0x21f0aaadn) & M;
    z = ((z ^ (z >> 15n)) * 0x735a2d97n) & M;
    return z ^ (z >> 15n);
  };
  const s = [splitmix(), splitmix(), splitmix(), splitmix()];
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M;
  return () => {
    const result = (rotl((s[1]! * 5n) & M, 7n) * 9n) & M;
    const t = (s[1]! << 9n) & M;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11n);
    return Number(result);
  };
}

describe('Rng', () => {
  it('follows the documented xoshiro128** / splitmix32 algorithm', () => {
    for (const seed of [0, 1, 42, 0xdeadbeef, -7]) {
      const a = new Rng(seed);
      const b = bigIntXoshiro(seed);
      for (let i = 0; i < 1000; i++) expect(a.nextU32()).toBe(b());
    }
  });

  it('fillU32 gives the nextU32 sequence and leaves the state where the calls would', () => {
    for (const seed of [0, 3, 0xdeadbeef]) {
      const a = new Rng(seed);
      const b = bigIntXoshiro(seed);
      const out = new Uint32Array(1000);
      a.fillU32(out, 999);
      for (let i = 0; i < 999; i++) expect(out[i]).toBe(b());
      expect(out[999]).toBe(0);
      expect(a.nextU32()).toBe(b());
      a.fillU32(out.subarray(0, 5));
      for (let i = 0; i < 5; i++) expect(out[i]).toBe(b());
    }
    expect(() => new Rng(1).fillU32(new Uint32Array(2), 3)).toThrow(
      /Rng.fillU32: n must be an integer in \[0, 2\], got 3/,
    );
  });

  it('is deterministic per seed and sensitive to the seed', () => {
    const seq = (seed: number): number[] => {
      const r = new Rng(seed);
      return Array.from({ length: 64 }, () => r.nextU32());
    };
    expect(seq(7)).toEqual(seq(7));
    const a = seq(7);
    const b = seq(8);
    expect(a.filter((v, i) => v === b[i]).length).toBe(0);
  });

  it('restores state exactly, including the cached normal', () => {
    const r = new Rng(99);
    r.normal(); // leaves the spare cached
    const s = r.getState();
    const after = [r.normal(), r.uniform(), r.nextU32(), r.normal(), r.normal()];
    const q = new Rng(1);
    q.setState(s);
    expect([q.normal(), q.uniform(), q.nextU32(), q.normal(), q.normal()]).toEqual(after);
    expect(() => q.setState(new Uint32Array(3))).toThrow(/Rng.setState: state length 3, expected 7/);
    expect(() => q.setState(new Uint32Array(7))).toThrow(/all zero/);
  });

  it('uniform lies in [0, 1) and normal has mean 0, variance 1', () => {
    const r = new Rng(5);
    let mu = 0;
    let s = 0;
    let n2 = 0;
    let lo = 1;
    let hi = 0;
    const N = 200000;
    for (let i = 0; i < N; i++) {
      const u = r.uniform();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      const z = r.normal();
      s += z;
      n2 += z * z;
      mu += u;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // 5-sigma bands for the sample statistics.
    expect(Math.abs(mu / N - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(s / N)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(n2 / N - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
  });

  it('categorical draws in proportion to the weights and validates them', () => {
    const r = new Rng(6);
    const w = new Float32Array([1, 0, 3, 4]);
    const counts = [0, 0, 0, 0];
    const N = 80000;
    for (let i = 0; i < N; i++) counts[r.categorical(w, 4)]!++;
    expect(counts[1]).toBe(0);
    [1 / 8, 0, 3 / 8, 4 / 8].forEach((p, i) => {
      expect(Math.abs(counts[i]! / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N) + 1e-12);
    });
    expect(() => r.categorical(new Float32Array([1, -1]), 2)).toThrow(/categorical: probs\[1\] = -1/);
    expect(() => r.categorical(new Float32Array([0, 0]), 2)).toThrow(/probs sum to 0/);
    expect(() => r.categorical(new Float32Array(3), 2)).toThrow(/categorical: probs length 3, expected n = 2/);
    expect(() => new Rng(1.5)).toThrow(TypeError);
  });
});
