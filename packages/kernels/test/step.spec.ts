// Fused batch-1 step kernels (lstmStep, gruStep, rnnStep): WASM against the reference twin on odd
// sizes, both array placements; bitwise equal to the unfused kernels they replace; argument errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { FAST_BACKENDS, maxDiff, type Place, rand } from './helpers.js';

const initial = K.getBackend();
afterAll(() => K.setBackend(initial));

describe.each(FAST_BACKENDS)('%s backend', (fast) => {
  beforeAll(() => K.setBackend(fast));

  const SIZES = [1, 3, 5, 63, 65, 257];
  const INPUTS = [0, 1, 3, 5, 63, 65, 257];
  const TOL = 1e-5;

  type Impl = typeof K | typeof K.reference;
  /** Array lengths of each kernel's arguments (in signature order) and which are outputs. */
  const KERNELS = {
    lstm: {
      lens: (nX: number, H: number) => [H, H, 4 * H, 4 * H, 4 * H * nX, nX, 4 * H * H, 4 * H],
      outs: [0, 1, 2, 3],
      run: (k: Impl, a: Float32Array[], nX: number, H: number) =>
        k.lstmStep(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, nX, H),
    },
    gru: {
      lens: (nX: number, H: number) => [H, 3 * H, 3 * H, 3 * H, 3 * H * nX, nX, 3 * H * H, 3 * H, 3 * H],
      outs: [0, 1, 2, 3],
      run: (k: Impl, a: Float32Array[], nX: number, H: number) =>
        k.gruStep(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, nX, H),
    },
    rnn: {
      lens: (nX: number, H: number) => [H, H, H * nX, nX, H * H, H],
      outs: [0, 1],
      run: (k: Impl, a: Float32Array[], nX: number, H: number) =>
        k.rnnStep(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, nX, H),
    },
  } as const;

  describe.each(['wasm-memory', 'plain'] as Place[])('step kernels, wasm vs twin, %s arrays', (place) => {
    const rng = new K.Rng(33);
    for (const [name, spec] of Object.entries(KERNELS)) {
      it.each(SIZES)(`${name}Step H=%i, every n_x`, (H) => {
        for (const nX of INPUTS) {
          // Weights scaled like an initialized layer so the gates do not all saturate.
          const mine = spec.lens(nX, H).map((n) => rand(rng, n, place, -1, 1));
          const wScale = 1 / Math.sqrt(Math.max(1, nX + H));
          for (const i of name === 'gru' ? [4, 6] : name === 'lstm' ? [4, 6] : [2, 4])
            mine[i]!.forEach((v, j, a) => (a[j] = v * wScale));
          const ref = mine.map((a) => a.slice());
          spec.run(K, mine, nX, H);
          spec.run(K.reference, ref, nX, H);
          for (const o of spec.outs) {
            const d = maxDiff(mine[o]!, ref[o]!);
            expect(d, `${name}Step nX=${nX} H=${H}: output #${o} max diff ${d}`).toBeLessThan(TOL);
          }
        }
      });
    }
  });

  describe('step kernels equal the unfused kernels bit for bit', () => {
    // 512: the six-row blocks specialized for 512 and 64 columns (gemv6x512/gemv6x64).
    it.each([...SIZES, 512])('H=%i', (H) => {
      for (const backend of [fast, 'js'] as const) {
        K.setBackend(backend);
        const rng = new K.Rng(H);
        for (const nX of [0, 5, 64]) {
          const r = (n: number, s = 1): Float32Array => rand(rng, n, 'wasm-memory', -s, s);
          const x = r(nX);
          const h = r(H);
          const c = r(H);
          // LSTM
          {
            const Wih = r(4 * H * nX, 0.3);
            const Whh = r(4 * H * H, 0.3);
            const b = r(4 * H);
            const h1 = h.slice();
            const c1 = c.slice();
            const pre1 = K.allocF32(4 * H);
            const act1 = K.allocF32(4 * H);
            const h2 = K.allocF32(H);
            const c2 = K.allocF32(H);
            const pre2 = K.allocF32(4 * H);
            const act2 = K.allocF32(4 * H);
            pre2.set(b);
            if (nX > 0) K.gemv(pre2, Wih, x, 4 * H, nX, true);
            K.gemv(pre2, Whh, h, 4 * H, H, true);
            K.lstmForward(h2, c2, act2, pre2, c, 1, H);
            K.lstmStep(h1, c1, act1, pre1, Wih, x, Whh, b, nX, H);
            expect([...h1], `lstm ${backend} nX=${nX} h`).toEqual([...h2]);
            expect([...c1], `lstm ${backend} nX=${nX} c`).toEqual([...c2]);
            expect([...act1]).toEqual([...act2]);
          }
          // GRU reset-after
          {
            const Wih = r(3 * H * nX, 0.3);
            const Whh = r(3 * H * H, 0.3);
            const bIh = r(3 * H);
            const bHh = r(3 * H);
            const h1 = h.slice();
            const act1 = K.allocF32(3 * H);
            const xp1 = K.allocF32(3 * H);
            const hp1 = K.allocF32(3 * H);
            const h2 = K.allocF32(H);
            const act2 = K.allocF32(3 * H);
            const xp2 = K.allocF32(3 * H);
            const hp2 = K.allocF32(3 * H);
            xp2.set(bIh);
            if (nX > 0) K.gemv(xp2, Wih, x, 3 * H, nX, true);
            hp2.set(bHh);
            K.gemv(hp2, Whh, h, 3 * H, H, true);
            K.gruForward(h2, act2, xp2, hp2, h, 1, H);
            K.gruStep(h1, act1, xp1, hp1, Wih, x, Whh, bIh, bHh, nX, H);
            expect([...h1], `gru ${backend} nX=${nX} h`).toEqual([...h2]);
            expect([...act1]).toEqual([...act2]);
          }
          // RNN
          {
            const Wih = r(H * nX, 0.3);
            const Whh = r(H * H, 0.3);
            const b = r(H);
            const h1 = h.slice();
            const pre1 = K.allocF32(H);
            const h2 = K.allocF32(H);
            const pre2 = K.allocF32(H);
            pre2.set(b);
            if (nX > 0) K.gemv(pre2, Wih, x, H, nX, true);
            K.gemv(pre2, Whh, h, H, H, true);
            K.rnnForward(h2, pre2, 1, H);
            K.rnnStep(h1, pre1, Wih, x, Whh, b, nX, H);
            expect([...h1], `rnn ${backend} nX=${nX} h`).toEqual([...h2]);
          }
        }
      }
      K.setBackend(fast);
    });
  });

  describe('step kernel argument errors (both backends alike)', () => {
    it.each([fast, 'js'] as const)('%s', (backend) => {
      K.setBackend(backend);
      const f = (n: number) => new Float32Array(n);
      expect(() => K.lstmStep(f(4), f(4), f(16), f(16), f(16 * 3), f(3), f(64), f(15), 3, 4)).toThrow(
        new RangeError('lstmStep: b length 15, expected 4*H = 16'),
      );
      expect(() => K.gruStep(f(4), f(12), f(12), f(12), f(12 * 2), f(3), f(48), f(12), f(12), 3, 4)).toThrow(
        new RangeError('gruStep: Wih length 24, expected 3*H*nX = 36'),
      );
      expect(() => K.rnnStep(f(4), f(4), f(12), f(3), f(16), f(4), 3, -1)).toThrow(
        new RangeError('rnnStep: H must be a non-negative integer, got -1'),
      );
      K.setBackend(fast);
    });
  });

  describe('step kernels: repeated calls with partly changed arguments', () => {
    it('uses the arrays of each call (no stale pointers when one argument changes)', () => {
      K.setBackend(fast);
      const rng = new K.Rng(5);
      const H = 5;
      const nX = 3;
      const r = (n: number, s = 0.5): Float32Array => rand(rng, n, 'wasm-memory', -s, s);
      const h = r(H);
      const c = r(H);
      const act = K.allocF32(4 * H);
      const pre = K.allocF32(4 * H);
      const x = r(nX);
      const b = r(4 * H);
      const Wih = r(4 * H * nX);
      const W1 = r(4 * H * H);
      const W2 = r(4 * H * H);
      const plainX = Float32Array.from(x);
      for (const [W, xi] of [
        [W1, x],
        [W2, x],
        [W1, plainX],
        [W2, x],
        [W1, x],
      ] as const) {
        const hr = h.slice();
        const cr = c.slice();
        const ar = new Float32Array(4 * H);
        const pr = new Float32Array(4 * H);
        K.reference.lstmStep(hr, cr, ar, pr, Wih, xi, W, b, nX, H);
        K.lstmStep(h, c, act, pre, Wih, xi, W, b, nX, H);
        expect(maxDiff(h, hr)).toBeLessThan(TOL);
        expect(maxDiff(c, cr)).toBeLessThan(TOL);
      }
    });
  });
});
