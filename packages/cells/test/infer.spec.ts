// Cell.infer and RnnStack.infer, the evaluation forward without a tape: the same outputs and final
// state as the training forward (forwardSequence / RnnStack.forward, the oracle already checked
// against PyTorch and finite differences) on every backend, for every kind, dense and one-hot
// inputs, one and several layers; bit for bit for an LSTM and a reset-after GRU on the native
// backend past the GEMM's small-batch cut; backward() unaffected; and the argument checks.
import { backendInfo, getBackend, setBackend } from '@rxrnn/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { type CellKind, createCell, type GruVariant, RnnStack } from '../src/index.js';
import { BACKENDS } from './support/backends.js';

const initial = getBackend();
afterAll(() => setBackend(initial));
/** The native gemmABt forms dot products (another order) for this many rows or fewer. */
const DOT_ROWS: Record<string, number> = { avx512: 12, avx2: 6, portable: 3 };

/** Largest |a − b| / (1 + |b|). */
function scaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

function filled(n: number, seed: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => scale * Math.sin(seed + i * 0.731));
}

const KINDS: [CellKind, GruVariant][] = [
  ['rnn', 'reset-after'],
  ['gru', 'reset-after'],
  ['gru', 'reset-before'],
  ['lstm', 'reset-after'],
];

describe.each(BACKENDS)('%s backend: infer equals the training forward', (backend) => {
  it.each(KINDS)('%s (%s): cell, dense and one-hot input', (kind, gruVariant) => {
    setBackend(backend);
    for (const [T, B, nX, H] of [
      [5, 20, 6, 19],
      [3, 2, 5, 8],
    ] as const) {
      const cell = createCell({ kind, gruVariant, inputSize: nX, hiddenSize: H, seed: 4 });
      for (const x of [filled(T * B * nX, 1), Int32Array.from({ length: T * B }, (_, i) => (i * 5 + 1) % nX)]) {
        const s0 = filled(B * cell.stateSize, 2, 0.6);
        const tape = cell.createTape(T, B);
        const ref = cell.forwardSequence(tape, x, s0).slice();
        const refState = new Float32Array(s0.length);
        cell.finalState(tape, refState);
        tape.free();
        const state = s0.slice();
        const out = new Float32Array(T * B * H);
        expect(cell.infer(x, T, B, state, out)).toBe(out);
        const label = `${backend} ${kind} T${T} B${B} ${x instanceof Int32Array ? 'ids' : 'dense'}`;
        expect(scaledDiff(out, ref), label).toBeLessThan(1e-5);
        expect(scaledDiff(state, refState), label).toBeLessThan(1e-5);
        // One lstmSequence / gruSequence call (LSTM, reset-after GRU, dense input) on native.
        const fused = kind === 'lstm' || (kind === 'gru' && gruVariant === 'reset-after');
        const exact = backend === 'native' && fused && !(x instanceof Int32Array);
        if (exact && B > DOT_ROWS[backendInfo().native.addon!.isa]!) {
          expect([...out], label).toEqual([...ref]);
          expect([...state], label).toEqual([...refState]);
        }
      }
    }
    setBackend(initial);
  });

  it.each(['lstm', 'gru'] as const)('%s stack of 3 layers; backward still refers to the last forward', (kind) => {
    setBackend(backend);
    const [T, B, nX, H] = [4, 16, 5, 12];
    const stack = new RnnStack({ kind, inputSize: nX, hiddenSize: H, layers: 3, seed: 8 });
    const x = filled(T * B * nX, 3);
    const s0 = filled(B * stack.stateSize, 5, 0.5);
    const refState = s0.slice();
    const ref = stack.forward(x, T, B, refState).slice();
    const dOut = filled(T * B * H, 7);
    stack.zeroGrads();
    stack.backward(dOut, null, null, null);
    const refGrads = stack.grads.slice();
    // forward, infer (other rows, other steps), backward: the gradients of the forward's window.
    stack.forward(x, T, B, s0.slice());
    const other = stack.infer(filled(2 * 3 * nX, 9), 2, 3, stack.createState(3));
    expect(other.length).toBe(2 * 3 * H);
    stack.zeroGrads();
    stack.backward(dOut, null, null, null);
    expect([...stack.grads]).toEqual([...refGrads]);
    const state = s0.slice();
    const out = stack.infer(x, T, B, state);
    expect(scaledDiff(out, ref)).toBeLessThan(1e-5);
    expect(scaledDiff(state, refState)).toBeLessThan(1e-5);
    if (backend === 'native' && B > DOT_ROWS[backendInfo().native.addon!.isa]!) {
      expect([...out]).toEqual([...ref]);
      expect([...state]).toEqual([...refState]);
    }
    setBackend(initial);
  });
});

describe('infer checks its arguments before touching anything', () => {
  const cell = createCell({ kind: 'lstm', inputSize: 3, hiddenSize: 4, seed: 1 });
  const [T, B] = [2, 2];
  it('lengths, dims, ids and shared memory', () => {
    const state = cell.createState(B);
    const out = new Float32Array(T * B * 4);
    expect(() => cell.infer(new Float32Array(11), T, B, state, out)).toThrow(
      new RangeError('lstm.infer: x length 11, expected T*B*n_x = 12'),
    );
    expect(() => cell.infer(new Float32Array(12), T, B, new Float32Array(3), out)).toThrow(
      new RangeError('lstm.infer: state length 3, expected B*stateSize = 16'),
    );
    expect(() => cell.infer(new Float32Array(12), 0, B, state, new Float32Array(0))).toThrow(RangeError);
    expect(() => cell.infer(Int32Array.of(0, 1, 2, 3), T, B, state, out)).toThrow(RangeError);
    const shared = new Float32Array(16 + 16);
    expect(() => cell.infer(new Float32Array(12), T, B, shared.subarray(0, 16), shared.subarray(8, 24))).toThrow(
      new RangeError('lstm.infer: out shares memory with state; pass separate arrays'),
    );
    expect([...state].every((v) => v === 0)).toBe(true);
    const stack = new RnnStack({ kind: 'gru', inputSize: 3, hiddenSize: 4, layers: 2, seed: 1 });
    expect(() => stack.infer(new Float32Array(12), T, B, new Float32Array(5))).toThrow(
      new RangeError('RnnStack.infer: state length 5, expected B*stateSize = 16'),
    );
  });
});
