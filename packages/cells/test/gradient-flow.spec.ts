// gradientFlow(): the per-step state gradients ∂L_T/∂h_t (and ∂L_T/∂c_t) that the backward pass
// exposes through its observer, against float64 central differences of an independent forward in
// which the state at step t is nudged (test/f64-oracle.ts), for every cell kind, 1 and 2 layers,
// char models, stacks and bare cells; plus what the function promises about the model it measures.
import { describe, expect, it } from 'vitest';
import {
  type CellKind,
  CharModel,
  createCell,
  decayStep,
  type GradientFlow,
  type GruVariant,
  gradientFlow,
  RnnStack,
} from '../src/index.js';
import { type CharSpec, centralDiffAt, charLastLoss, type StackSpec, stackForward, testValues } from './f64-oracle.js';

/** The issue's bar: every per-step gradient element and norm within 1e-5 of the oracle. */
const TOL = 1e-5;

const CASES: { kind: CellKind; variant: GruVariant }[] = [
  { kind: 'rnn', variant: 'reset-after' },
  { kind: 'gru', variant: 'reset-after' },
  { kind: 'gru', variant: 'reset-before' },
  { kind: 'lstm', variant: 'reset-after' },
];
const label = (kind: CellKind, variant: GruVariant) => `${kind}${kind === 'gru' ? ` ${variant}` : ''}`;

/** Worst |flow − finite difference| over every layer, step and element, and over the norms. */
function compare(
  flow: GradientFlow,
  H: number,
  layers: number,
  fd: (layer: number, t: number, state: 'h' | 'c', j: number) => number,
): { element: number; norm: number; checked: number } {
  let element = 0;
  let norm = 0;
  let checked = 0;
  const T = flow.T;
  for (let l = 0; l < layers; l++) {
    const f = flow.layers[l]!;
    for (const state of f.c === null ? (['h'] as const) : (['h', 'c'] as const)) {
      const vec = state === 'h' ? f.dh! : f.dc!;
      const norms = state === 'h' ? f.h : f.c!;
      for (let t = 0; t < T; t++) {
        const k = T - 1 - t;
        let sq = 0;
        for (let j = 0; j < H; j++) {
          const g = fd(l, t, state, j);
          sq += g * g;
          element = Math.max(element, Math.abs(vec[k * H + j]! - g));
          checked++;
        }
        norm = Math.max(norm, Math.abs(norms[k]! - Math.sqrt(sq)));
      }
    }
  }
  return { element, norm, checked };
}

describe('gradientFlow of a char model vs float64 finite differences of the last loss', () => {
  for (const { kind, variant } of CASES) {
    for (const layers of [1, 2]) {
      for (const onehot of layers === 1 ? [false, true] : [false]) {
        it(`${label(kind, variant)}, ${layers} layer(s), ${onehot ? 'one-hot' : 'embedding'}`, () => {
          const V = 6;
          const E = 3;
          const H = 4;
          const T = 7;
          const model = new CharModel({
            cell: kind,
            gruVariant: variant,
            vocab: ['a', 'b', 'c', 'd', 'e', 'f'],
            input: onehot ? 'onehot' : 'embedding',
            embeddingDim: E,
            hidden: H,
            layers,
            seed: 3,
          });
          // Random weights and biases (scale 0.6) so that no path hides behind a zero.
          model.params.set(testValues(model.paramCount(), 31, 0.6));
          const p = Float64Array.from(model.params);
          const tokens = Int32Array.from([0, 3, 5, 1, 2, 2, 4, 1]);
          const s0 = Float32Array.from(testValues(model.stateSize, 32, 0.5));
          const spec: CharSpec = { kind, variant, V, E, H, layers, onehot, views: model.views() };
          const inputs = tokens.subarray(0, T);
          const target = tokens[T]!;

          const flow = gradientFlow(model, tokens, { state: s0, vectors: true });
          expect(flow.T).toBe(T);
          expect(flow.layers).toHaveLength(layers);
          expect(Math.abs(flow.loss - charLastLoss(spec, p, inputs, target, s0))).toBeLessThan(TOL);
          const r = compare(flow, H, layers, (layer, t, state, index) =>
            centralDiffAt((delta) => charLastLoss(spec, p, inputs, target, s0, { layer, t, state, index, delta })),
          );
          expect(r.checked).toBe(layers * T * H * (kind === 'lstm' ? 2 : 1));
          expect(r.element).toBeLessThan(TOL);
          expect(r.norm).toBeLessThan(TOL);
          // The gradient reaches the window start: the test would see a wrong early step.
          expect(flow.layers[0]!.h[T - 1]).toBeGreaterThan(1e-4);
        });
      }
    }
  }
});

describe('gradientFlow of a stack or a cell: L = Σ w_j·h_T[j]', () => {
  for (const { kind, variant } of CASES) {
    it(`${label(kind, variant)}: 2-layer stack and a single cell`, () => {
      const nx = 3;
      const H = 4;
      const T = 6;
      const X = Float32Array.from(testValues(T * nx, 41));
      const w = Float32Array.from(testValues(H, 42));
      const X64 = Float64Array.from(X);
      const w64 = Float64Array.from(w);
      for (const layers of [2, 1]) {
        const stack = new RnnStack({ kind, inputSize: nx, hiddenSize: H, layers, gruVariant: variant, seed: 4 });
        stack.params.set(testValues(stack.paramCount(), 43, 0.6));
        const s0 = Float32Array.from(testValues(stack.stateSize, 44, 0.5));
        const spec: StackSpec = { kind, variant, inputSize: nx, hidden: H, layers, views: stack.views() };
        const p = Float64Array.from(stack.params);
        const loss = (nudge: Parameters<typeof stackForward>[7]) => {
          const { out } = stackForward(spec, p, X64, false, s0, T, 1, nudge);
          let s = 0;
          for (let j = 0; j < H; j++) s += w64[j]! * out[(T - 1) * H + j]!;
          return s;
        };
        const fd = (layer: number, t: number, state: 'h' | 'c', index: number) =>
          centralDiffAt((delta) => loss({ layer, t, state, index, delta }));
        const flow = gradientFlow(stack, X, { state: s0, outputWeights: w, vectors: true });
        expect(Math.abs(flow.loss - loss(null))).toBeLessThan(TOL);
        const r = compare(flow, H, layers, fd);
        expect(r.element).toBeLessThan(TOL);
        expect(r.norm).toBeLessThan(TOL);

        if (layers === 1) {
          // The same weights in a bare cell (a stack's layer 0 has the cell's layout).
          const cell = createCell({ kind, inputSize: nx, hiddenSize: H, gruVariant: variant });
          cell.params.set(stack.params);
          const single = gradientFlow(cell, X, { state: s0, outputWeights: w, vectors: true });
          const rc = compare(single, H, 1, fd);
          expect(rc.element).toBeLessThan(TOL);
          expect(rc.norm).toBeLessThan(TOL);
        }
      }
    });
  }

  it('default loss Σ_j h_T[j]: ∂L/∂h_T is all ones, so its norm is √H', () => {
    const stack = new RnnStack({ kind: 'gru', inputSize: 2, hiddenSize: 9, seed: 1 });
    const flow = gradientFlow(stack, Float32Array.from(testValues(5 * 2, 3)));
    expect(flow.layers[0]!.h[0]).toBeCloseTo(3, 12);
    expect(flow.layers[0]!.dh).toBeNull();
    expect(flow.layers[0]!.c).toBeNull();
  });

  it('one-hot ids into a cell', () => {
    const cell = createCell({ kind: 'lstm', inputSize: 5, hiddenSize: 3, seed: 2 });
    const flow = gradientFlow(cell, Int32Array.from([0, 4, 2, 2]));
    expect(flow.T).toBe(4);
    expect(flow.layers[0]!.c).toHaveLength(4);
    expect(flow.layers[0]!.h[3]).toBeGreaterThan(0);
  });
});

describe('gradientFlow leaves the model as it found it', () => {
  it('params, grads and the given state are unchanged; the training path is untouched', () => {
    const model = new CharModel({ cell: 'lstm', vocab: ['x', 'y', 'z'], hidden: 5, layers: 2, seed: 9 });
    const inputs = Int32Array.from([0, 1, 2, 1, 0, 2]);
    const targets = Int32Array.from([1, 2, 1, 0, 2, 2]);
    model.zeroGrads();
    model.lossAndGrad(inputs, targets, 3, 2, model.createState(2));
    const grads = model.grads.slice();
    const params = model.params.slice();
    const state = Float32Array.from(testValues(model.stateSize, 5, 0.3));
    const stateCopy = state.slice();
    const flow = gradientFlow(model, 'xyzzyxzy', { state });
    expect(flow.T).toBe(7);
    expect(model.grads).toEqual(grads);
    expect(model.params).toEqual(params);
    expect(state).toEqual(stateCopy);
    // The same batch again gives bitwise the same gradients as before the measurement.
    model.zeroGrads();
    model.lossAndGrad(inputs, targets, 3, 2, model.createState(2));
    expect(model.grads).toEqual(grads);
  });

  it('an observer changes nothing in the backward pass (bitwise)', () => {
    for (const kind of ['rnn', 'gru', 'lstm'] as const) {
      const stack = new RnnStack({ kind, inputSize: 3, hiddenSize: 4, layers: 2, seed: 6 });
      const X = Float32Array.from(testValues(5 * 2 * 3, 7));
      const dOut = Float32Array.from(testValues(5 * 2 * 4, 8));
      const run = (observe: boolean) => {
        stack.zeroGrads();
        stack.forward(X, 5, 2, stack.createState(2));
        const dX = new Float32Array(X.length);
        const dS0 = new Float32Array(2 * stack.stateSize);
        let calls = 0;
        stack.backward(dOut, null, dX, dS0, observe ? () => calls++ : null);
        return { grads: stack.grads.slice(), dX, dS0, calls };
      };
      const plain = run(false);
      const seen = run(true);
      expect(seen.grads).toEqual(plain.grads);
      expect(seen.dX).toEqual(plain.dX);
      expect(seen.dS0).toEqual(plain.dS0);
      expect(seen.calls).toBe(2 * 5);
    }
  });
});

describe('gradientFlow and decayStep: arguments', () => {
  const model = new CharModel({ cell: 'rnn', vocab: ['a', 'b'], hidden: 3 });
  it('refuses what it cannot measure', () => {
    expect(() => gradientFlow({} as never, 'ab')).toThrow(TypeError);
    expect(() => gradientFlow(model, 'a')).toThrow(/tokens length 1, expected T \+ 1 >= 2/);
    expect(() => gradientFlow(model, 'abc?')).toThrow(RangeError);
    expect(() => gradientFlow(model, Int32Array.from([0, 1, 2]))).toThrow(/tokens\[2\] must be an id in \[0, 2\)/);
    expect(() => gradientFlow(model, new Float32Array(3))).toThrow(TypeError);
    expect(() => gradientFlow(model, 'abab', { state: new Float32Array(2) })).toThrow(
      /options.state length 2, expected stateSize = 3/,
    );
    const stack = new RnnStack({ kind: 'rnn', inputSize: 2, hiddenSize: 3 });
    expect(() => gradientFlow(stack, new Float32Array(5))).toThrow(/x length 5, expected T\*n_x = a multiple of 2/);
    expect(() => gradientFlow(stack, new Float32Array(0))).toThrow(/window is empty/);
    expect(() => gradientFlow(stack, 'ab')).toThrow(TypeError);
    expect(() => gradientFlow(stack, new Float32Array(4), { outputWeights: new Float32Array(2) })).toThrow(
      /outputWeights length 2, expected H = 3/,
    );
    expect(() => gradientFlow(stack, new Float32Array(4), { outputWeights: Float32Array.of(1, NaN, 1) })).toThrow(
      /outputWeights\[1\] must be a finite number, got NaN/,
    );
  });

  it('decayStep: the first k below threshold × norms[0]', () => {
    expect(decayStep([1, 0.1, 0.01, 0.0009, 0.0001])).toBe(3);
    expect(decayStep([1, 0.5, 0.4], 0.45)).toBe(2);
    expect(decayStep([1, 0.5, 0.4])).toBeNull();
    expect(decayStep([])).toBeNull();
    expect(() => decayStep([1], 0)).toThrow(/threshold must be a finite number > 0, got 0/);
  });
});
