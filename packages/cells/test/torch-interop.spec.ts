// PyTorch state_dict interop: export → import is exact, import → export keeps the function,
// the bias convention (single bias = bias_ih + bias_hh; GRU reset-after keeps b_hn), and errors.
import { describe, expect, it } from 'vitest';
import { CharModel, createCell, RnnStack, type TorchStateDict } from '../src/index.js';
import { testValues } from './f64-oracle.js';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** A PyTorch-style dict with random weights and two different bias vectors. */
function torchDict(kind: 'rnn' | 'gru' | 'lstm', nx: number, H: number, L: number, prefix = ''): TorchStateDict {
  const G = { rnn: 1, gru: 3, lstm: 4 }[kind];
  const d: TorchStateDict = {};
  for (let k = 0; k < L; k++) {
    const inp = k === 0 ? nx : H;
    d[`${prefix}weight_ih_l${k}`] = { shape: [G * H, inp], data: Array.from(testValues(G * H * inp, 100 + k)) };
    d[`${prefix}weight_hh_l${k}`] = { shape: [G * H, H], data: Array.from(testValues(G * H * H, 200 + k)) };
    d[`${prefix}bias_ih_l${k}`] = { shape: [G * H], data: Array.from(testValues(G * H, 300 + k)) };
    d[`${prefix}bias_hh_l${k}`] = { shape: [G * H], data: testValues(G * H, 400 + k) };
  }
  return d;
}

describe('PyTorch interop', () => {
  for (const kind of ['rnn', 'gru', 'lstm'] as const) {
    it(`${kind}: export → import is exact; import → export computes the same function`, () => {
      const nx = 3;
      const H = 4;
      const L = 2;
      const T = 3;
      const B = 2;
      const a = new RnnStack({ kind, inputSize: nx, hiddenSize: H, layers: L, seed: 1 });
      a.params.set(testValues(a.paramCount(), 7, 0.5));
      const b = new RnnStack({ kind, inputSize: nx, hiddenSize: H, layers: L, seed: 2 });
      b.fromTorch(a.toTorch());
      expect(Array.from(b.params)).toEqual(Array.from(a.params));

      // A dict with two live bias vectors: import sums them, so the function is PyTorch's.
      const dict = torchDict(kind, nx, H, L, 'rnn.');
      const c = new RnnStack({ kind, inputSize: nx, hiddenSize: H, layers: L });
      c.fromTorch(dict, { prefix: 'rnn.' });
      const out = c.toTorch('params', { prefix: 'rnn.' });
      expect(Object.keys(out).sort()).toEqual(Object.keys(dict).sort());
      const G = { rnn: 1, gru: 3, lstm: 4 }[kind];
      for (let k = 0; k < L; k++) {
        const bi = out[`rnn.bias_ih_l${k}`]!.data;
        const bh = out[`rnn.bias_hh_l${k}`]!.data;
        const si = dict[`rnn.bias_ih_l${k}`]!.data;
        const sh = dict[`rnn.bias_hh_l${k}`]!.data;
        for (let j = 0; j < G * H; j++) {
          const nBlock = kind === 'gru' && j >= 2 * H;
          // GRU's n block keeps b_in and b_hn apart (r multiplies b_hn); elsewhere one summed bias.
          expect(bi[j]).toBeCloseTo(nBlock ? si[j]! : si[j]! + sh[j]!, 6);
          expect(bh[j]).toBeCloseTo(nBlock ? sh[j]! : 0, 6);
        }
      }
      const d = new RnnStack({ kind, inputSize: nx, hiddenSize: H, layers: L });
      d.fromTorch(out, { prefix: 'rnn.' });
      const X = Float32Array.from(testValues(T * B * nx, 8));
      const s0 = Float32Array.from(testValues(B * c.stateSize, 9));
      const yc = Float32Array.from(c.forward(X, T, B, Float32Array.from(s0)));
      const yd = Float32Array.from(d.forward(X, T, B, Float32Array.from(s0)));
      expect(maxDiff(yc, yd)).toBeLessThan(1e-6);
    });
  }

  it('grads export: bias_ih and bias_hh both carry dL/db (GRU n block: db_in and db_hn)', () => {
    const stack = new RnnStack({ kind: 'gru', inputSize: 2, hiddenSize: 3, seed: 4 });
    stack.params.set(testValues(stack.paramCount(), 5, 0.5));
    stack.forward(Float32Array.from(testValues(4, 6)), 2, 1, stack.createState(1));
    stack.backward(Float32Array.from(testValues(6, 7)), null, null, null);
    const g = stack.toTorch('grads');
    const bi = g.bias_ih_l0!.data;
    const bh = g.bias_hh_l0!.data;
    expect(Array.from(bi.subarray(0, 6))).toEqual(Array.from(bh.subarray(0, 6)));
    expect(maxDiff(bi.subarray(6), bh.subarray(6))).toBeGreaterThan(1e-6);
  });

  it('CharModel: toTorchStateDict → fromTorchStateDict is exact, with names embedding/rnn/linear', () => {
    const config = { cell: 'lstm' as const, vocab: ['a', 'b', 'c'], embeddingDim: 2, hidden: 3, layers: 2, seed: 6 };
    const m = new CharModel(config);
    const dict = m.toTorchStateDict();
    expect(Object.keys(dict)).toEqual([
      'embedding.weight',
      'rnn.weight_ih_l0',
      'rnn.weight_hh_l0',
      'rnn.bias_ih_l0',
      'rnn.bias_hh_l0',
      'rnn.weight_ih_l1',
      'rnn.weight_hh_l1',
      'rnn.bias_ih_l1',
      'rnn.bias_hh_l1',
      'linear.weight',
      'linear.bias',
    ]);
    const n = CharModel.fromTorchStateDict({ ...config, seed: 99 }, dict);
    expect(Array.from(n.params)).toEqual(Array.from(m.params));
    const renamed = Object.fromEntries(Object.entries(dict).map(([k, v]) => [k.replace(/^rnn\./, 'lstm.'), v]));
    const o = CharModel.fromTorchStateDict(config, renamed, { prefix: 'lstm' });
    expect(Array.from(o.params)).toEqual(Array.from(m.params));
  });

  it('reset-before GRU refuses PyTorch weights (a different function)', () => {
    const cell = createCell({ kind: 'gru', inputSize: 2, hiddenSize: 3, gruVariant: 'reset-before' });
    expect(() => cell.toTorch()).toThrow(TypeError);
    expect(() => cell.fromTorch(torchDict('gru', 2, 3, 1), (b) => `${b}_l0`)).toThrow(/reset-before/);
  });

  it('names the missing tensor, the wrong shape and a non-finite value', () => {
    const stack = new RnnStack({ kind: 'lstm', inputSize: 3, hiddenSize: 4 });
    const dict = torchDict('lstm', 3, 4, 1);
    const { weight_hh_l0: _drop, ...missing } = dict;
    expect(() => stack.fromTorch(missing)).toThrow(/missing tensor "weight_hh_l0"/);
    expect(() => stack.fromTorch({ ...dict, bias_ih_l0: { shape: [15], data: new Array(15).fill(0) } })).toThrow(
      /"bias_ih_l0" has shape \[15\], expected \[16\]/,
    );
    const bad = Array.from(dict.weight_ih_l0!.data);
    bad[5] = NaN;
    expect(() => stack.fromTorch({ ...dict, weight_ih_l0: { shape: [16, 3], data: bad } })).toThrow(RangeError);
  });
});
