// Test-only (not exported): deterministic input vectors for the operator specs.
// Each call returns fresh Float32Arrays the caller owns.
import { Rng } from '@rxrnn/kernels';

/** `count` vectors of length `n`, uniform in [-1, 1), from a fixed seed. */
export function randomVectors(count: number, n: number, seed = 1): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1));
}

/** Steps `cell` directly over `xs` from a fresh state: the oracle the operators must match. */
export function stepDirectly(
  cell: { createState(B: number): Float32Array; step(s: Float32Array, x: Float32Array, B: number): Float32Array },
  xs: readonly Float32Array[],
  B = 1,
  state = cell.createState(B),
): Float32Array[] {
  return xs.map((x) => cell.step(state, x, B).slice());
}

/**
 * A tiny deterministic stand-in for a CharModel (vocab 'a'..'d', state [running sum, step count])
 * with a step counter, for the generate() checks that need no real network. `nanAt` makes the
 * logits NaN from that step on, to test errors raised by the model's own numbers.
 */
export function toyModel(nanAt = Infinity) {
  const vocab = ['a', 'b', 'c', 'd'];
  const logits = new Float32Array(vocab.length);
  const model = {
    config: { cell: 'lstm' as const, vocab, hidden: 1, layers: 1 },
    steps: 0,
    createState: (B: number) => new Float32Array(2 * B),
    step(tokens: Int32Array, state: Float32Array): Float32Array {
      state[0] = 0.5 * state[0]! + tokens[0]! + 1;
      state[1] = state[1]! + 1;
      for (let i = 0; i < logits.length; i++) logits[i] = 3 * Math.sin(state[0]! * (i + 1) + state[1]!);
      if (++model.steps > nanAt) logits.fill(NaN);
      return logits;
    },
  };
  return model;
}
