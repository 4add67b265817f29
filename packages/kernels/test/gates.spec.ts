// Fused gate kernels: WASM against the reference twin (both array placements), and the
// reference backward kernels against float64 central differences of the reference forward.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import * as G from '../src/reference/gates.js';
import { FAST_BACKENDS, maxDiff, type Place, rand } from './helpers.js';

const initial = K.getBackend();
afterAll(() => K.setBackend(initial));

describe.each(FAST_BACKENDS)('%s backend', (fast) => {
  beforeAll(() => K.setBackend(fast));

  const SHAPES: [number, number][] = [
    [1, 1],
    [1, 3],
    [2, 5],
    [3, 63],
    [2, 65],
    [1, 257],
  ];
  const TOL = 1e-5;

  /** Runs `fn` on the wasm backend and on the reference twin with equal inputs; compares outputs. */
  function compare(
    label: string,
    arrays: Float32Array[],
    outputs: number[],
    fn: (impl: typeof K | typeof K.reference, a: Float32Array[]) => void,
  ): void {
    const mine = arrays;
    const ref = arrays.map((a) => a.slice());
    fn(K, mine);
    fn(K.reference, ref);
    for (const o of outputs) {
      const d = maxDiff(mine[o]!, ref[o]!);
      expect(d, `${label}: output #${o} max diff ${d}`).toBeLessThan(TOL);
    }
  }

  describe.each(['wasm-memory', 'plain'] as Place[])('gate kernels, wasm vs twin, %s arrays', (place) => {
    const rng = new K.Rng(21);
    const r = (n: number, s = 3): Float32Array => rand(rng, n, place, -s, s);
    const p = (n: number): Float32Array => rand(rng, n, place, 0.01, 0.99);

    it.each(SHAPES)('B=%i H=%i', (B, H) => {
      const n = B * H;
      compare(`rnnForward ${B}x${H}`, [r(n), r(n)], [0], (k, a) => k.rnnForward(a[0]!, a[1]!, B, H));
      compare(`rnnBackward ${B}x${H}`, [r(n), r(n), r(n, 1)], [0], (k, a) => k.rnnBackward(a[0]!, a[1]!, a[2]!, B, H));
      compare(`lstmForward ${B}x${H}`, [r(n), r(n), r(4 * n), r(4 * n, 6), r(n)], [0, 1, 2], (k, a) =>
        k.lstmForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, H),
      );
      compare(`lstmBackward ${B}x${H}`, [r(4 * n), r(n), r(n), r(n), p(4 * n), r(n), r(n)], [0, 1], (k, a) =>
        k.lstmBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, B, H),
      );
      compare(`gruForward ${B}x${H}`, [r(n), r(3 * n), r(3 * n), r(3 * n), r(n)], [0, 1], (k, a) =>
        k.gruForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, H),
      );
      compare(`gruBackward ${B}x${H}`, [r(3 * n), r(3 * n), r(n), r(n), p(3 * n), r(3 * n), r(n)], [0, 1, 2], (k, a) =>
        k.gruBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, B, H),
      );
      compare(`gruRzForward ${B}x${H}`, [r(3 * n), r(n), r(3 * n), r(2 * n), r(n)], [0, 1], (k, a) =>
        k.gruRzForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, H),
      );
      compare(`gruNForward ${B}x${H}`, [r(n), p(3 * n), r(3 * n), r(n), r(n)], [0, 1], (k, a) =>
        k.gruNForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, H),
      );
      compare(`gruNBackward ${B}x${H}`, [r(3 * n), r(n), r(n), r(n), p(3 * n), r(n)], [0, 1, 2], (k, a) =>
        k.gruNBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, B, H),
      );
      compare(`gruRzBackward ${B}x${H}`, [r(3 * n), r(2 * n), r(n), r(n), p(3 * n), r(n)], [0, 1, 2], (k, a) =>
        k.gruRzBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, B, H),
      );
    });

    it('saturates without NaN at |pre-activation| 1e4', () => {
      const B = 1;
      const H = 5;
      const pre = Float32Array.from({ length: 4 * H }, (_, i) => (i % 2 ? 1e4 : -1e4));
      const h = new Float32Array(H);
      const c = new Float32Array(H);
      const act = new Float32Array(4 * H);
      K.lstmForward(h, c, act, pre, new Float32Array(H).fill(0.5), B, H);
      for (const v of [...h, ...c, ...act]) expect(Number.isFinite(v)).toBe(true);
      // Gate j = 0 of each block: pre[0] = −1e4 (i), pre[H] = +1e4 (f), pre[2H] = −1e4 (g), pre[3H] = +1e4 (o).
      expect([act[0], act[H], act[2 * H], act[3 * H]]).toEqual([0, 1, -1, 1]);
      expect(c[0]).toBe(0.5);
      expect(Math.abs(h[0]! - Math.tanh(0.5))).toBeLessThan(1e-7);
    });
  });

  describe('vector exp/sigmoid/tanh accuracy in the wasm gates', () => {
    it('stays within 1e-6 relative of float64 Math over a sweep', () => {
      K.setBackend(fast);
      // Magnitudes from 1e-8 to 90 (both signs), dense where tanh switches formulas (0.625).
      const xs: number[] = [];
      for (let e = -8; e <= 1.95; e += 0.01) xs.push(10 ** e, -(10 ** e));
      for (let v = 0.55; v < 0.7; v += 0.0013) xs.push(v, -v);
      while (xs.length % 4) xs.push(0);
      const n = xs.length;
      const x = K.allocF32(n);
      x.set(xs);
      const y = K.allocF32(n);
      K.rnnForward(y, x, 1, n);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const t = Math.tanh(x[i]!);
        worst = Math.max(worst, t === 0 ? Math.abs(y[i]!) : Math.abs(y[i]! - t) / Math.abs(t));
      }
      expect(worst, `tanh max relative error ${worst}`).toBeLessThan(1e-6);
      // LSTM i gates (first H of 4H) are σ(pre); keep σ above 1e-30 so relative error is meaningful.
      const pre = K.allocF32(4 * n);
      const act = K.allocF32(4 * n);
      for (let i = 0; i < n; i++) pre[i] = Math.max(-69, Math.min(69, xs[i]!));
      K.lstmForward(K.allocF32(n), K.allocF32(n), act, pre, K.allocF32(n), 1, n);
      worst = 0;
      for (let i = 0; i < n; i++) {
        const s = 1 / (1 + Math.exp(-pre[i]!));
        worst = Math.max(worst, Math.abs(act[i]! - s) / s);
      }
      expect(worst, `sigmoid max relative error ${worst}`).toBeLessThan(1e-6);
    });
  });

  // ---- Finite differences (float64, on the reference cores) -----------------------------------
  const f64 = (rng: K.Rng, n: number, s = 1.5): Float64Array =>
    Float64Array.from({ length: n }, () => s * (2 * rng.uniform() - 1));
  const dotp = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

  /** Central differences of loss() w.r.t. every entry of x, compared with the analytic grad. */
  function checkFd(label: string, x: Float64Array, grad: Float64Array, loss: () => number): void {
    const eps = 1e-6;
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      x[i] = v + eps;
      const lp = loss();
      x[i] = v - eps;
      const lm = loss();
      x[i] = v;
      const fd = (lp - lm) / (2 * eps);
      worst = Math.max(worst, Math.abs(fd - grad[i]!) / (1 + Math.abs(fd)));
    }
    expect(worst, `${label}: max relative error vs central differences ${worst}`).toBeLessThan(1e-6);
  }

  describe('gate backward kernels vs finite differences', () => {
    const B = 2;
    const H = 3;
    const n = B * H;

    it('rnnBackward', () => {
      const rng = new K.Rng(31);
      const pre = f64(rng, n);
      const w = f64(rng, n);
      const h = new Float64Array(n);
      const dPre = new Float64Array(n);
      const loss = (): number => {
        G.rnnForwardCore(h, pre, B, H);
        return dotp(h, w);
      };
      loss();
      G.rnnBackwardCore(dPre, w, h, B, H);
      checkFd('rnn dPre', pre, dPre, loss);
    });

    it('lstmBackward (dPre and dcPrev)', () => {
      const rng = new K.Rng(32);
      const pre = f64(rng, 4 * n);
      const cPrev = f64(rng, n);
      const wh = f64(rng, n);
      const wc = f64(rng, n);
      const h = new Float64Array(n);
      const c = new Float64Array(n);
      const act = new Float64Array(4 * n);
      const loss = (): number => {
        G.lstmForwardCore(h, c, act, pre, cPrev, B, H);
        return dotp(h, wh) + dotp(c, wc);
      };
      loss();
      const dPre = new Float64Array(4 * n);
      const dcPrev = new Float64Array(n);
      G.lstmBackwardCore(dPre, dcPrev, wh, wc, act, cPrev, c, B, H);
      checkFd('lstm dPre', pre, dPre, loss);
      checkFd('lstm dcPrev', cPrev, dcPrev, loss);
    });

    it('gruBackward, reset-after (dxPre, dhPre, direct dhPrev)', () => {
      const rng = new K.Rng(33);
      const xPre = f64(rng, 3 * n);
      const hPre = f64(rng, 3 * n);
      const hPrev = f64(rng, n);
      const w = f64(rng, n);
      const h = new Float64Array(n);
      const act = new Float64Array(3 * n);
      const loss = (): number => {
        G.gruForwardCore(h, act, xPre, hPre, hPrev, B, H);
        return dotp(h, w);
      };
      loss();
      const dxPre = new Float64Array(3 * n);
      const dhPre = new Float64Array(3 * n);
      const dhPrev = new Float64Array(n);
      G.gruBackwardCore(dxPre, dhPre, dhPrev, w, act, hPre, hPrev, B, H);
      checkFd('gru dxPre', xPre, dxPre, loss);
      checkFd('gru dhPre', hPre, dhPre, loss);
      // hPre is held fixed, so d loss / d hPrev is exactly the direct part the kernel returns.
      checkFd('gru dhPrev', hPrev, dhPrev, loss);
    });

    it('reset-before pair around the caller W_hn·(r⊙h) product', () => {
      const rng = new K.Rng(34);
      const xPre = f64(rng, 3 * n);
      const hPreRz = f64(rng, 2 * n);
      const hPrev = f64(rng, n);
      const w = f64(rng, n);
      const Whn = f64(rng, H * H, 0.8);
      const h = new Float64Array(n);
      const act = new Float64Array(3 * n);
      const rh = new Float64Array(n);
      const hn = new Float64Array(n);
      const loss = (): number => {
        G.gruRzForwardCore(act, rh, xPre, hPreRz, hPrev, B, H);
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < H; i++) {
            let s = 0;
            for (let j = 0; j < H; j++) s += Whn[i * H + j]! * rh[b * H + j]!;
            hn[b * H + i] = s;
          }
        }
        G.gruNForwardCore(h, act, xPre, hn, hPrev, B, H);
        return dotp(h, w);
      };
      loss();
      const dxPre = new Float64Array(3 * n);
      const dhn = new Float64Array(n);
      const dhPrev = new Float64Array(n);
      const drh = new Float64Array(n);
      const dhPreRz = new Float64Array(2 * n);
      G.gruNBackwardCore(dxPre, dhn, dhPrev, w, act, hPrev, B, H);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          let s = 0;
          for (let i = 0; i < H; i++) s += dhn[b * H + i]! * Whn[i * H + j]!;
          drh[b * H + j] = s;
        }
      }
      G.gruRzBackwardCore(dxPre, dhPreRz, dhPrev, drh, act, hPrev, B, H);
      checkFd('gru-rb dxPre', xPre, dxPre, loss);
      checkFd('gru-rb dhPreRz', hPreRz, dhPreRz, loss);
      checkFd('gru-rb dhPrev', hPrev, dhPrev, loss);
    });
  });
});
