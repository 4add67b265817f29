// Finite-difference checks: analytic BPTT gradients of every cell kind (rnn, gru reset-after and
// reset-before, lstm), single and 2-layer stacks, and the char model (embedding and one-hot),
// against float64 central differences of an independent float64 forward (test/f64-oracle.ts).
import { describe, expect, it } from 'vitest';
import { type CellKind, CharModel, type GruVariant, RnnStack } from '../src/index.js';
import { charLoss, type StackSpec, stackForward, testValues, worstGradError } from './f64-oracle.js';

const TOL = 2e-4;
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

const CASES: { kind: CellKind; variant: GruVariant }[] = [
  { kind: 'rnn', variant: 'reset-after' },
  { kind: 'gru', variant: 'reset-after' },
  { kind: 'gru', variant: 'reset-before' },
  { kind: 'lstm', variant: 'reset-after' },
];

describe('stack gradients vs float64 finite differences', () => {
  for (const { kind, variant } of CASES) {
    for (const layers of [1, 2]) {
      const label = `${kind}${kind === 'gru' ? ` ${variant}` : ''}, ${layers} layer${layers > 1 ? 's' : ''}`;
      it(label, () => {
        const nx = 3;
        const H = 4;
        const T = 3;
        const B = 2;
        const stack = new RnnStack({ kind, inputSize: nx, hiddenSize: H, layers, gruVariant: variant, seed: 5 });
        // Random params (biases included) so that no gradient term hides behind a zero.
        stack.params.set(testValues(stack.paramCount(), 11, 0.6));
        const p = Float64Array.from(stack.params);
        const X = Float64Array.from(Float32Array.from(testValues(T * B * nx, 12)));
        const s0 = Float64Array.from(Float32Array.from(testValues(B * stack.stateSize, 13, 0.5)));
        const Gout = testValues(T * B * H, 14);
        const Gs = testValues(B * stack.stateSize, 15);
        const spec: StackSpec = { kind, variant, inputSize: nx, hidden: H, layers, views: stack.views() };
        const loss = () => {
          const { out, state } = stackForward(spec, p, X, false, s0, T, B);
          return dot(out, Gout) + dot(state, Gs);
        };

        const state = Float32Array.from(s0);
        const out = stack.forward(Float32Array.from(X), T, B, state);
        const ref = stackForward(spec, p, X, false, s0, T, B);
        expect(maxDiff(out, ref.out)).toBeLessThan(1e-5);
        expect(maxDiff(state, ref.state)).toBeLessThan(1e-5);

        const dX = new Float32Array(X.length);
        const dS0 = new Float32Array(s0.length);
        stack.backward(Float32Array.from(Gout), Float32Array.from(Gs), dX, dS0);
        const gp = worstGradError(stack.grads, loss, p);
        expect(
          gp.err,
          `param ${
            stack
              .views()
              .filter((v) => v.offset <= gp.at)
              .pop()?.name
          } @${gp.at}`,
        ).toBeLessThan(TOL);
        expect(worstGradError(dX, loss, X).err, 'input').toBeLessThan(TOL);
        expect(worstGradError(dS0, loss, s0).err, 'initial state').toBeLessThan(TOL);
      });
    }
  }

  it('accumulates into grads across backward calls (twice the window, twice the gradient)', () => {
    const stack = new RnnStack({ kind: 'lstm', inputSize: 2, hiddenSize: 3, seed: 1 });
    const X = Float32Array.from(testValues(2 * 2 * 2, 3));
    const G = Float32Array.from(testValues(2 * 2 * 3, 4));
    stack.forward(X, 2, 2, stack.createState(2));
    stack.backward(G, null, null, null);
    const once = Float32Array.from(stack.grads);
    stack.forward(X, 2, 2, stack.createState(2));
    stack.backward(G, null, null, null);
    expect(
      maxDiff(
        stack.grads,
        once.map((v) => 2 * v),
      ),
    ).toBeLessThan(1e-6);
    expect(maxDiff(once, new Float32Array(once.length))).toBeGreaterThan(1e-3);
  });
});

describe('char model gradients vs float64 finite differences', () => {
  const MODELS: { kind: CellKind; variant: GruVariant; onehot: boolean; layers: number }[] = [
    { kind: 'lstm', variant: 'reset-after', onehot: false, layers: 1 },
    { kind: 'lstm', variant: 'reset-after', onehot: true, layers: 2 },
    { kind: 'gru', variant: 'reset-after', onehot: true, layers: 1 },
    { kind: 'gru', variant: 'reset-before', onehot: false, layers: 2 },
    { kind: 'rnn', variant: 'reset-after', onehot: false, layers: 2 },
  ];
  for (const m of MODELS) {
    it(`${m.kind}${m.kind === 'gru' ? ` ${m.variant}` : ''}, ${m.onehot ? 'one-hot' : 'embedding'}, ${m.layers} layer(s)`, () => {
      const V = 5;
      const E = 3;
      const H = 4;
      const T = 3;
      const B = 2;
      const model = new CharModel({
        cell: m.kind,
        gruVariant: m.variant,
        vocab: ['a', 'b', 'c', 'd', 'e'],
        input: m.onehot ? 'onehot' : 'embedding',
        embeddingDim: E,
        hidden: H,
        layers: m.layers,
        seed: 3,
      });
      model.params.set(testValues(model.paramCount(), 21, 0.6));
      const p = Float64Array.from(model.params);
      const inputs = Int32Array.from([0, 3, 4, 1, 2, 2]);
      const targets = Int32Array.from([3, 4, 1, 0, 2, 4]);
      const s0 = Float64Array.from(Float32Array.from(testValues(B * model.stateSize, 22, 0.5)));
      const spec = {
        kind: m.kind,
        variant: m.variant,
        V,
        E,
        H,
        layers: m.layers,
        onehot: m.onehot,
        views: model.views(),
      };
      const ref = charLoss(spec, p, inputs, targets, s0, T, B);

      model.zeroGrads();
      const state = Float32Array.from(s0);
      const { lossSum, count } = model.lossAndGrad(inputs, targets, T, B, state);
      expect(count).toBe(T * B);
      expect(Math.abs(lossSum / count - ref.loss)).toBeLessThan(1e-5);
      expect(maxDiff(state, ref.state)).toBeLessThan(1e-5);
      const g = worstGradError(model.grads, () => charLoss(spec, p, inputs, targets, s0, T, B).loss, p);
      expect(
        g.err,
        `param ${
          model
            .views()
            .filter((v) => v.offset <= g.at)
            .pop()?.name
        } @${g.at}`,
      ).toBeLessThan(TOL);

      // evaluate: the same loss and state, gradients untouched.
      const before = Float32Array.from(model.grads);
      const state2 = Float32Array.from(s0);
      const ev = model.evaluate(inputs, targets, T, B, state2);
      expect(Math.abs(ev.lossSum - lossSum)).toBeLessThan(1e-9);
      expect(maxDiff(state2, state)).toBe(0);
      expect(maxDiff(model.grads, before)).toBe(0);
    });
  }
});
