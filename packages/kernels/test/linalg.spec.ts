// WASM GEMV/GEMM/ger against the reference twin on random shapes including sizes that are not
// multiples of the SIMD width, both transposes, accumulate on/off, arrays in and out of WASM memory.
// Tolerance is relative to Σ|terms| per element (the reference run on |A|, |B|).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { abs, copy, FAST_BACKENDS, maxScaledDiff, type Place, rand } from './helpers.js';

const SIZES = [1, 3, 5, 63, 65, 257];
const TOL = 1e-5;
const initial = K.getBackend();
afterAll(() => K.setBackend(initial));

describe.each(FAST_BACKENDS)('%s backend', (fast) => {
  beforeAll(() => K.setBackend(fast));

  const places: Place[] = ['wasm-memory', 'plain'];

  describe.each(places)('gemv / gemvT with %s arrays', (place) => {
    it('matches the reference twin', () => {
      const rng = new K.Rng(11);
      for (const rows of SIZES) {
        for (const cols of SIZES) {
          for (const acc of [false, true]) {
            const W = rand(rng, rows * cols, place);
            const x = rand(rng, cols, place);
            const xt = rand(rng, rows, place);
            const y0 = rand(rng, rows, place);
            const yt0 = rand(rng, cols, place);
            // Plain copies for the oracle, so it never shares storage with the kernel under test.
            const y = copy(y0, place);
            const yRef = y0.slice();
            K.gemv(y, W, x, rows, cols, acc);
            K.reference.gemv(yRef, W.slice(), x.slice(), rows, cols, acc);
            const bound = new Float32Array(rows);
            K.reference.gemv(bound, abs(W), abs(x), rows, cols);
            let d = maxScaledDiff(y, yRef, bound);
            expect(d, `gemv ${rows}x${cols} acc=${acc} max scaled diff ${d}`).toBeLessThan(TOL);

            const yt = copy(yt0, place);
            const ytRef = yt0.slice();
            K.gemvT(yt, W, xt, rows, cols, acc);
            K.reference.gemvT(ytRef, W.slice(), xt.slice(), rows, cols, acc);
            const boundT = new Float32Array(cols);
            K.reference.gemvT(boundT, abs(W), abs(xt), rows, cols);
            d = maxScaledDiff(yt, ytRef, boundT);
            expect(d, `gemvT ${rows}x${cols} acc=${acc} max scaled diff ${d}`).toBeLessThan(TOL);
            for (const a of [W, x, xt, y0, yt0, y, yt]) K.freeF32(a);
          }
        }
      }
    });
  });

  type GemmName = 'gemmABt' | 'gemmAtB' | 'gemmAB';
  const GEMM = { gemmABt: K.gemmABt, gemmAtB: K.gemmAtB, gemmAB: K.gemmAB };
  const GEMM_TWIN = { gemmABt: K.reference.gemmABt, gemmAtB: K.reference.gemmAtB, gemmAB: K.reference.gemmAB };

  describe.each(places)('gemm (three forms) and ger with %s arrays', (place) => {
    // Each listed size appears in every position; the other two dims are random in 1..70.
    const rng = new K.Rng(12);
    const shapes: [number, number, number][] = [
      [32, 1024 / 8, 40],
      [8, 65, 257],
    ];
    for (const s of SIZES) {
      const r = (): number => 1 + Math.floor(rng.uniform() * 70);
      shapes.push([s, r(), r()], [r(), s, r()], [r(), r(), s]);
    }

    it.each(['gemmABt', 'gemmAtB', 'gemmAB'] as GemmName[])('%s matches the reference twin', (name) => {
      for (const [M, N, Kd] of shapes) {
        for (const acc of [false, true]) {
          const A = rand(rng, M * Kd, place);
          const Bm = rand(rng, N * Kd, place);
          const C0 = rand(rng, M * N, place);
          const C = copy(C0, place);
          const CRef = C0.slice();
          GEMM[name](C, A, Bm, M, N, Kd, acc);
          GEMM_TWIN[name](CRef, A.slice(), Bm.slice(), M, N, Kd, acc);
          const bound = new Float32Array(M * N);
          K.reference[name](bound, abs(A), abs(Bm), M, N, Kd);
          const d = maxScaledDiff(C, CRef, bound);
          expect(d, `${name} M=${M} N=${N} K=${Kd} acc=${acc} max scaled diff ${d}`).toBeLessThan(TOL);
          for (const a of [A, Bm, C0, C]) K.freeF32(a);
        }
      }
    });

    it('optional arguments left out take their defaults: gemv/gemvT acc false, ger alpha 1', () => {
      const W = rand(rng, 5 * 7, place);
      const x7 = rand(rng, 7, place);
      const x5 = rand(rng, 5, place);
      const y = rand(rng, 5, place);
      const yAcc = y.slice();
      K.gemv(y, W, x7, 5, 7);
      K.gemv(yAcc, W, x7, 5, 7, false);
      expect([...y]).toEqual([...yAcc]);
      const z = rand(rng, 7, place);
      const zAcc = z.slice();
      K.gemvT(z, W, x5, 5, 7);
      K.gemvT(zAcc, W, x5, 5, 7, false);
      expect([...z]).toEqual([...zAcc]);
      const A = copy(W, place);
      const AOne = W.slice();
      K.ger(A, x5, x7, 5, 7);
      K.ger(AOne, x5, x7, 5, 7, 1);
      expect([...A]).toEqual([...AOne]);
      expect([...A]).not.toEqual([...W]);
    });

    it('ger matches the reference twin', () => {
      for (const rows of SIZES) {
        for (const cols of SIZES) {
          const A0 = rand(rng, rows * cols, place);
          const x = rand(rng, rows, place);
          const y = rand(rng, cols, place);
          const A = copy(A0, place);
          const ARef = A0.slice();
          K.ger(A, x, y, rows, cols, -0.75);
          K.reference.ger(ARef, x.slice(), y.slice(), rows, cols, -0.75);
          const d = maxScaledDiff(A, ARef, ARef);
          expect(d, `ger ${rows}x${cols} max scaled diff ${d}`).toBeLessThan(TOL);
          for (const a of [A0, x, y, A]) K.freeF32(a);
        }
      }
    });
  });

  describe('zero-sized dims', () => {
    it('give zeros (or leave the accumulator) like the twin', () => {
      const rng = new K.Rng(14);
      for (const [M, N, Kd] of [
        [0, 3, 2],
        [3, 0, 2],
        [3, 2, 0],
      ] as const) {
        for (const name of ['gemmABt', 'gemmAtB', 'gemmAB'] as GemmName[]) {
          for (const acc of [false, true]) {
            const A = rand(rng, M * Kd, 'wasm-memory');
            const Bm = rand(rng, N * Kd, 'wasm-memory');
            const C = rand(rng, M * N, 'wasm-memory');
            const CRef = C.slice();
            GEMM[name](C, A, Bm, M, N, Kd, acc);
            GEMM_TWIN[name](CRef, A.slice(), Bm.slice(), M, N, Kd, acc);
            expect([...C], `${name} ${M}x${N}x${Kd} acc=${acc}`).toEqual([...CRef]);
          }
        }
      }
      const y = rand(rng, 3, 'wasm-memory');
      K.gemv(y, K.allocF32(0), K.allocF32(0), 3, 0);
      expect([...y]).toEqual([0, 0, 0]);
      y.fill(2);
      K.gemvT(y, K.allocF32(0), K.allocF32(0), 0, 3, true);
      expect([...y]).toEqual([2, 2, 2]);
    });
  });

  describe('mixed placement and views', () => {
    it('works when some arrays are in WASM memory and others are not, and on subarray views', () => {
      const rng = new K.Rng(13);
      const rows = 65;
      const cols = 63;
      const big = rand(rng, rows * cols + 7, 'wasm-memory');
      // A view at an odd float offset: unaligned SIMD loads must still be right.
      const W = big.subarray(3, 3 + rows * cols);
      const x = rand(rng, cols, 'plain');
      const y = K.allocF32(rows);
      const yRef = new Float32Array(rows);
      K.gemv(y, W, x, rows, cols);
      K.reference.gemv(yRef, W.slice(), x, rows, cols);
      const bound = new Float32Array(rows);
      K.reference.gemv(bound, abs(W), abs(x), rows, cols);
      const d = maxScaledDiff(y, yRef, bound);
      expect(d, `mixed gemv max scaled diff ${d}`).toBeLessThan(TOL);
      K.freeF32(big);
      K.freeF32(y);
    });
  });

  describe.each(places)('gemv specialized six-row blocks (cols 64 and 512) with %s arrays', (place) => {
    it('matches the reference twin, incl. leftover rows and the last block (no read past the matrix)', () => {
      const rng = new K.Rng(12);
      for (const cols of [64, 512]) {
        for (const rows of [6, 11, 12, 13, 47, 2048]) {
          for (const acc of [false, true]) {
            const W = rand(rng, rows * cols, place);
            const x = rand(rng, cols, place);
            const y0 = rand(rng, rows, place);
            const y = copy(y0, place);
            const yRef = y0.slice();
            K.gemv(y, W, x, rows, cols, acc);
            K.reference.gemv(yRef, W.slice(), x.slice(), rows, cols, acc);
            const bound = new Float32Array(rows);
            K.reference.gemv(bound, abs(W), abs(x), rows, cols);
            const d = maxScaledDiff(y, yRef, bound);
            expect(d, `gemv ${rows}x${cols} acc=${acc} max scaled diff ${d}`).toBeLessThan(TOL);
          }
        }
      }
    });
  });
});
