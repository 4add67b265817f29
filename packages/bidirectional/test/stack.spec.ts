// BidirectionalStack against a float64 reference written from the formulas: outputs, final states,
// and every gradient (params, input, h0/c0) against central finite differences of that reference,
// for every cell kind and GRU variant, 1–2 layers, all merge modes, dense and one-hot inputs.

import { Rng } from '@rxrnn/kernels';
import { describe, expect, it } from 'vitest';
import { BidirectionalStack, type BidirectionalStackConfig } from '../src/index.js';
import { flat, nest, type RefSpec, refForward } from './f64-reference.js';

const T = 4;
const B = 2;

function randoms(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * (2 * rng.uniform() - 1));
}

function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  return m;
}

interface Case extends Omit<BidirectionalStackConfig, 'inputSize' | 'hiddenSize'> {
  onehot?: boolean;
}

const cases: Case[] = [
  { kind: 'rnn', layers: 1 },
  { kind: 'rnn', layers: 2 },
  { kind: 'gru', layers: 2 },
  { kind: 'gru', layers: 2, gruVariant: 'reset-before' },
  { kind: 'lstm', layers: 1 },
  { kind: 'lstm', layers: 2 },
  { kind: 'lstm', layers: 1, merge: 'sum' },
  { kind: 'gru', layers: 2, merge: 'mul' },
  { kind: 'rnn', layers: 2, merge: 'ave' },
  { kind: 'lstm', layers: 2, onehot: true },
];

describe('BidirectionalStack: forward and BPTT through both directions', () => {
  for (const c of cases) {
    const name = `${c.kind}${c.gruVariant ? ` ${c.gruVariant}` : ''} L${c.layers} merge ${c.merge ?? 'concat'}${c.onehot ? ' one-hot' : ''}`;
    it(name, () => {
      const nX = c.onehot ? 5 : 3;
      const H = 4;
      const L = c.layers ?? 1;
      const lstm = c.kind === 'lstm';
      const stack = new BidirectionalStack({ ...c, inputSize: nX, hiddenSize: H, seed: 3 });
      const rng = new Rng(17);
      // Larger than the init so the nonlinearities are exercised away from zero.
      stack.params.set(randoms(stack.paramCount(), rng, 0.6));
      const ids = Int32Array.from({ length: T * B }, () => Math.floor(rng.uniform() * nX));
      const x = c.onehot ? ids : randoms(T * B * nX, rng);
      const xRows = c.onehot
        ? Float32Array.from({ length: T * B * nX }, (_, i) => (ids[Math.floor(i / nX)] === i % nX ? 1 : 0))
        : (x as Float32Array);
      const h0 = randoms(L * 2 * B * H, rng);
      const c0 = randoms(L * 2 * B * H, rng);
      const G = randoms(T * B * stack.outputSize, rng);
      const Gh = randoms(L * 2 * B * H, rng);
      const Gc = randoms(L * 2 * B * H, rng);

      const spec: RefSpec = {
        kind: c.kind,
        gruVariant: c.gruVariant ?? 'reset-after',
        inputSize: nX,
        hiddenSize: H,
        layers: L,
        merge: c.merge ?? 'concat',
      };
      const views = stack.views();
      const lossOf = (p: Float64Array, xs: ArrayLike<number>, h: ArrayLike<number>, cc: ArrayLike<number>) => {
        const r = refForward(spec, views, p, nest(xs, T, B, nX), nest(h, L * 2, B, H), nest(cc, L * 2, B, H));
        let s = 0;
        flat(r.out).forEach((v, i) => (s += v * G[i]!));
        flat(r.hN).forEach((v, i) => (s += v * Gh[i]!));
        if (lstm) flat(r.cN).forEach((v, i) => (s += v * Gc[i]!));
        return { s, r };
      };
      const p64 = Float64Array.from(stack.params);
      const ref = lossOf(p64, xRows, h0, c0);

      const state = stack.packState(B, h0, lstm ? c0 : undefined);
      const out = stack.forward(x, T, B, state);
      const { h: hN, c: cN } = stack.unpackState(B, state);
      expect(maxErr(out, flat(ref.r.out))).toBeLessThan(1e-5);
      expect(maxErr(hN, flat(ref.r.hN))).toBeLessThan(1e-5);
      if (lstm) expect(maxErr(cN!, flat(ref.r.cN))).toBeLessThan(1e-5);

      stack.zeroGrads();
      const dInput = c.onehot ? null : new Float32Array(T * B * nX);
      const dState0 = new Float32Array(B * stack.stateSize);
      stack.backward(G, stack.packState(B, Gh, lstm ? Gc : undefined), dInput, dState0);
      const { h: dh0, c: dc0 } = stack.unpackState(B, dState0);

      // Central differences of the float64 reference (eps 1e-5: truncation error ~1e-10).
      const eps = 1e-5;
      const fd = (n: number, perturb: (i: number, e: number) => number) =>
        Float64Array.from({ length: n }, (_, i) => (perturb(i, eps) - perturb(i, -eps)) / (2 * eps));
      const gParams = fd(p64.length, (i, e) => {
        const q = p64.slice();
        q[i]! += e;
        return lossOf(q, xRows, h0, c0).s;
      });
      expect(maxErr(stack.grads, gParams)).toBeLessThan(2e-4);
      const x64 = Float64Array.from(xRows);
      const h64 = Float64Array.from(h0);
      const c64 = Float64Array.from(c0);
      if (dInput) {
        const gX = fd(x64.length, (i, e) => {
          const q = x64.slice();
          q[i]! += e;
          return lossOf(p64, q, h0, c0).s;
        });
        expect(maxErr(dInput, gX)).toBeLessThan(2e-4);
      }
      const gH0 = fd(h64.length, (i, e) => {
        const q = h64.slice();
        q[i]! += e;
        return lossOf(p64, xRows, q, c0).s;
      });
      expect(maxErr(dh0, gH0)).toBeLessThan(2e-4);
      if (lstm) {
        const gC0 = fd(c64.length, (i, e) => {
          const q = c64.slice();
          q[i]! += e;
          return lossOf(p64, xRows, h0, q).s;
        });
        expect(maxErr(dc0!, gC0)).toBeLessThan(2e-4);
      }
    });
  }
});
