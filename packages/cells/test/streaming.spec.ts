// Streaming consistency: Cell.step / RnnStack.step / CharModel.step over a sequence give the
// window forward's outputs, and a window split in two through the same state gives the same
// outputs and final state as one window (the truncated-BPTT carry).
import { describe, expect, it } from 'vitest';
import { type CellKind, CharModel, createCell, type GruVariant, RnnStack } from '../src/index.js';
import { testValues } from './f64-oracle.js';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const KINDS: [CellKind, GruVariant][] = [
  ['rnn', 'reset-after'],
  ['gru', 'reset-after'],
  ['gru', 'reset-before'],
  ['lstm', 'reset-after'],
];

describe('step agrees with the window forward', () => {
  for (const [kind, gruVariant] of KINDS) {
    it(`${kind}${kind === 'gru' ? ` ${gruVariant}` : ''}: Cell.step, B = 1 and B = 3`, () => {
      for (const B of [1, 3]) {
        const nx = 5;
        const H = 6;
        const T = 4;
        const cell = createCell({ kind, inputSize: nx, hiddenSize: H, gruVariant, seed: 2 });
        cell.params.set(testValues(cell.paramCount(), 9, 0.5));
        const X = Float32Array.from(testValues(T * B * nx, 10));
        const s0 = Float32Array.from(testValues(B * cell.stateSize, 11, 0.5));
        const tape = cell.createTape(T, B);
        const out = Float32Array.from(cell.forwardSequence(tape, X, s0));
        const fin = new Float32Array(B * cell.stateSize);
        cell.finalState(tape, fin);

        const state = Float32Array.from(s0);
        for (let t = 0; t < T; t++) {
          const h = cell.step(state, X.subarray(t * B * nx, (t + 1) * B * nx), B);
          expect(h.buffer).toBe(state.buffer);
          expect(maxDiff(h, out.subarray(t * B * H, (t + 1) * B * H))).toBeLessThan(1e-6);
        }
        expect(maxDiff(state, fin)).toBeLessThan(1e-6);
        expect(maxDiff(fin, s0)).toBeGreaterThan(1e-3);
      }
    });
  }

  it('two interleaved streams on one stack keep separate states', () => {
    const stack = new RnnStack({ kind: 'gru', inputSize: 2, hiddenSize: 3, layers: 2, seed: 3 });
    const X = Float32Array.from(testValues(2 * 5, 6));
    const Y = Float32Array.from(testValues(2 * 5, 7));
    const sx = stack.createState(1);
    const sy = stack.createState(1);
    const hx: number[] = [];
    const hy: number[] = [];
    for (let t = 0; t < 5; t++) {
      hx.push(...stack.step(sx, X.subarray(2 * t, 2 * t + 2), 1));
      hy.push(...stack.step(sy, Y.subarray(2 * t, 2 * t + 2), 1));
    }
    const ox = stack.forward(X, 5, 1, stack.createState(1));
    expect(maxDiff(hx, ox)).toBeLessThan(1e-6);
    const oy = stack.forward(Y, 5, 1, stack.createState(1));
    expect(maxDiff(hy, oy)).toBeLessThan(1e-6);
  });

  it('RnnStack: two half windows through one state equal one window', () => {
    const T = 6;
    const B = 2;
    const nx = 3;
    const H = 4;
    const stack = new RnnStack({ kind: 'lstm', inputSize: nx, hiddenSize: H, layers: 2, seed: 4 });
    const X = Float32Array.from(testValues(T * B * nx, 5));
    const whole = stack.createState(B);
    const outWhole = Float32Array.from(stack.forward(X, T, B, whole));
    const split = stack.createState(B);
    const a = Float32Array.from(stack.forward(X.subarray(0, 3 * B * nx), 3, B, split));
    const b = Float32Array.from(stack.forward(X.subarray(3 * B * nx), 3, B, split));
    expect(maxDiff(outWhole.subarray(0, a.length), a)).toBe(0);
    expect(maxDiff(outWhole.subarray(a.length), b)).toBeLessThan(1e-6);
    expect(maxDiff(whole, split)).toBeLessThan(1e-6);
    // And step by step through the stack.
    const stepped = stack.createState(B);
    for (let t = 0; t < T; t++) {
      const h = stack.step(stepped, X.subarray(t * B * nx, (t + 1) * B * nx), B);
      expect(maxDiff(h, outWhole.subarray(t * B * H, (t + 1) * B * H))).toBeLessThan(1e-6);
    }
    expect(maxDiff(stepped, whole)).toBeLessThan(1e-6);
  });

  for (const input of ['embedding', 'onehot'] as const) {
    it(`CharModel.step (${input}) returns the window logits, one step at a time`, () => {
      const vocab = ['x', 'y', 'z', 'w'];
      const T = 5;
      const B = 2;
      const model = new CharModel({ cell: 'gru', vocab, input, embeddingDim: 3, hidden: 5, layers: 2, seed: 8 });
      const inputs = Int32Array.from([0, 1, 2, 3, 3, 2, 1, 0, 0, 0]);
      const logits = Float32Array.from(model.logits(inputs, T, B, model.createState(B)));
      const state = model.createState(B);
      for (let t = 0; t < T; t++) {
        const l = model.step(inputs.subarray(t * B, (t + 1) * B), state);
        expect(l.length).toBe(B * vocab.length);
        expect(maxDiff(l, logits.subarray(t * B * 4, (t + 1) * B * 4))).toBeLessThan(1e-6);
      }
    });
  }
});

describe('initialization', () => {
  it('is seeded: same seed, same params; different seed, different params', () => {
    const a = new CharModel({ cell: 'lstm', vocab: ['a', 'b'], hidden: 4, embeddingDim: 3, seed: 1 });
    const b = new CharModel({ cell: 'lstm', vocab: ['a', 'b'], hidden: 4, embeddingDim: 3, seed: 1 });
    const c = new CharModel({ cell: 'lstm', vocab: ['a', 'b'], hidden: 4, embeddingDim: 3, seed: 2 });
    expect(maxDiff(a.params, b.params)).toBe(0);
    expect(maxDiff(a.params, c.params)).toBeGreaterThan(0.01);
  });

  it('Glorot-uniform W_ih, orthogonal W_hh blocks, zero biases, LSTM forget bias 1', () => {
    const nx = 5;
    const H = 8;
    const cell = createCell({ kind: 'lstm', inputSize: nx, hiddenSize: H, seed: 3 });
    const v = Object.fromEntries(
      cell.views().map((x) => [x.name, cell.params.subarray(x.offset, x.offset + x.shape.reduce((p, q) => p * q, 1))]),
    );
    const limit = Math.sqrt(6 / (nx + H));
    expect(Math.max(...Array.from(v.weight_ih!, Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...Array.from(v.weight_ih!, Math.abs))).toBeGreaterThan(limit / 2);
    for (let g = 0; g < 4; g++) {
      const W = v.weight_hh!.subarray(g * H * H, (g + 1) * H * H);
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < H; j++) {
          let s = 0;
          for (let k = 0; k < H; k++) s += W[i * H + k]! * W[j * H + k]!;
          expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-5);
        }
      }
    }
    expect(Array.from(v.bias!)).toEqual([...Array(H).fill(0), ...Array(H).fill(1), ...Array(2 * H).fill(0)]);
  });
});
