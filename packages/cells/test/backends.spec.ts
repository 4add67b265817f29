// The fast kernel backends (native, wasm) give the same cells as the js twin: a char model built
// under each backend (same seed) yields matching params, loss, gradients, final state and
// streaming logits.
import { type Backend, getBackend, setBackend } from '@rxrnn/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { type CellKind, CharModel, type GruVariant } from '../src/index.js';
import { BACKENDS } from './support/backends.js';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

function run(backend: Backend, cell: CellKind, gruVariant: GruVariant, input: 'embedding' | 'onehot') {
  setBackend(backend);
  const vocab = [...'abcdefghij'];
  const T = 7;
  const B = 3;
  const model = new CharModel({ cell, gruVariant, vocab, input, embeddingDim: 6, hidden: 9, layers: 2, seed: 12 });
  const inputs = Int32Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % 10);
  const targets = Int32Array.from({ length: T * B }, (_, i) => (i * 3 + 1) % 10);
  const state = model.createState(B);
  const { lossSum } = model.lossAndGrad(inputs, targets, T, B, state);
  const one = model.createState(1);
  const logits: number[] = [];
  for (let t = 0; t < T; t++) logits.push(...model.step(inputs.subarray(t * B, t * B + 1), one));
  return {
    params: Float32Array.from(model.params),
    grads: Float32Array.from(model.grads),
    state: Float32Array.from(state),
    lossSum,
    logits,
  };
}

const initial = getBackend();
const FAST = BACKENDS.filter((b) => b !== 'js');

describe.each(FAST)('%s and js backends agree', (fast) => {
  afterAll(() => setBackend(initial));
  const cases: [CellKind, GruVariant, 'embedding' | 'onehot'][] = [
    ['lstm', 'reset-after', 'embedding'],
    ['gru', 'reset-after', 'onehot'],
    ['gru', 'reset-before', 'embedding'],
    ['rnn', 'reset-after', 'onehot'],
  ];
  for (const [cell, variant, input] of cases) {
    it(`${cell}${cell === 'gru' ? ` ${variant}` : ''}, ${input}, 2 layers`, () => {
      const w = run(fast, cell, variant, input);
      const j = run('js', cell, variant, input);
      expect(maxDiff(w.params, j.params)).toBe(0);
      expect(Math.abs(w.lossSum - j.lossSum)).toBeLessThan(1e-4);
      expect(maxDiff(w.grads, j.grads)).toBeLessThan(1e-5);
      expect(maxDiff(w.state, j.state)).toBeLessThan(1e-5);
      expect(maxDiff(w.logits, j.logits)).toBeLessThan(1e-5);
      expect(maxDiff(w.grads, new Float32Array(w.grads.length))).toBeGreaterThan(1e-3);
    });
  }
});
