// Parameter counts against the course formulas, views/layout, Vocabulary, and argument checks
// (RangeError/TypeError naming what was expected and what arrived).
import { describe, expect, it } from 'vitest';
import { CharModel, createCell, Dense, Embedding, RnnStack, Vocabulary } from '../src/index.js';

describe('parameter counts', () => {
  const sizes = [
    [1, 1],
    [3, 5],
    [27, 64],
    [64, 256],
  ] as const;
  it('tanh RNN and LSTM equal the course formulas; GRU reset-before too; reset-after adds H (b_hn)', () => {
    for (const [nx, na] of sizes) {
      const block = (na + nx) * na + na;
      expect(createCell({ kind: 'rnn', inputSize: nx, hiddenSize: na }).paramCount()).toBe(block);
      expect(createCell({ kind: 'lstm', inputSize: nx, hiddenSize: na }).paramCount()).toBe(4 * block);
      expect(createCell({ kind: 'gru', inputSize: nx, hiddenSize: na, gruVariant: 'reset-before' }).paramCount()).toBe(
        3 * block,
      );
      expect(createCell({ kind: 'gru', inputSize: nx, hiddenSize: na }).paramCount()).toBe(3 * block + na);
    }
  });
  it('output layer n_a·n_y + n_y; stacks and the char model add their parts', () => {
    expect(new Dense({ inSize: 64, outSize: 27 }).paramCount()).toBe(64 * 27 + 27);
    const st = new RnnStack({ kind: 'lstm', inputSize: 10, hiddenSize: 8, layers: 3 });
    expect(st.paramCount()).toBe(4 * ((8 + 10) * 8 + 8) + 2 * 4 * ((8 + 8) * 8 + 8));
    const m = new CharModel({ cell: 'rnn', vocab: ['a', 'b', 'c'], embeddingDim: 4, hidden: 5 });
    expect(m.paramCount()).toBe(3 * 4 + ((5 + 4) * 5 + 5) + (5 * 3 + 3));
    const views = m.views();
    expect(views.map((v) => v.name)).toEqual([
      'embedding.weight',
      'rnn.weight_ih_l0',
      'rnn.weight_hh_l0',
      'rnn.bias_l0',
      'linear.weight',
      'linear.bias',
    ]);
    const last = views[views.length - 1]!;
    expect(last.offset + last.shape[0]!).toBe(m.paramCount());
    const oh = new CharModel({ cell: 'rnn', vocab: ['a', 'b', 'c'], input: 'onehot', hidden: 5 });
    expect(oh.paramCount()).toBe((5 + 3) * 5 + 5 + (5 * 3 + 3));
    expect(oh.config.embeddingDim).toBe(0);
  });
});

describe('LSTM forget-gate bias', () => {
  it('initializes the f block of the bias to forgetBias (default 1), every other bias to 0', () => {
    const H = 3;
    const biasOf = (cell: { params: Float32Array; views(): { name: string; offset: number }[] }) => {
      const v = cell.views().find((x) => x.name.startsWith('bias'))!;
      return Array.from(cell.params.subarray(v.offset, v.offset + 4 * H));
    };
    const blocks = (f: number) => [...Array(H).fill(0), ...Array(H).fill(f), ...Array(2 * H).fill(0)];
    expect(biasOf(createCell({ kind: 'lstm', inputSize: 2, hiddenSize: H }))).toEqual(blocks(1));
    expect(biasOf(createCell({ kind: 'lstm', inputSize: 2, hiddenSize: H, forgetBias: 0 }))).toEqual(blocks(0));
    expect(biasOf(createCell({ kind: 'lstm', inputSize: 2, hiddenSize: H, forgetBias: -2.5 }))).toEqual(blocks(-2.5));
    const stack = new RnnStack({ kind: 'lstm', inputSize: 2, hiddenSize: H, layers: 2, forgetBias: 2 });
    for (const cell of stack.cells) expect(biasOf(cell)).toEqual(blocks(2));
    expect(() => createCell({ kind: 'lstm', inputSize: 2, hiddenSize: H, forgetBias: NaN })).toThrow(
      'lstm cell: forgetBias must be a finite number, got NaN',
    );
  });
});

describe('Vocabulary', () => {
  it('sorts code points, round-trips text, names unknown characters', () => {
    const v = Vocabulary.fromText('hello, wörld 🙂');
    expect(v.chars).toEqual([' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w', 'ö', '🙂']);
    expect(v.size).toBe(11);
    expect(v.decode(v.encode('öl 🙂'))).toBe('öl 🙂');
    expect(v.id('ö')).toBe(9);
    expect(() => v.encode('x')).toThrow(/"x" at index 0 is not in the vocabulary/);
    expect(() => v.decode([11])).toThrow(RangeError);
    expect(() => new Vocabulary(['a', 'a'])).toThrow(RangeError);
    expect(() => new Vocabulary(['ab'])).toThrow(TypeError);
  });
});

describe('argument checks', () => {
  it('configs', () => {
    expect(() => createCell({ kind: 'elman' as 'rnn', inputSize: 2, hiddenSize: 2 })).toThrow(
      /kind must be 'rnn', 'gru' or 'lstm', got "elman"/,
    );
    expect(() => createCell({ kind: 'lstm', inputSize: 0, hiddenSize: 2 })).toThrow(
      /inputSize must be a positive integer, got 0/,
    );
    expect(() => createCell({ kind: 'gru', inputSize: 2, hiddenSize: 2.5 })).toThrow(RangeError);
    expect(() =>
      createCell({ kind: 'gru', inputSize: 2, hiddenSize: 2, gruVariant: 'after' as 'reset-after' }),
    ).toThrow(/gruVariant/);
    expect(() => new CharModel({ cell: 'lstm', vocab: [], hidden: 3 })).toThrow(TypeError);
    expect(() => new CharModel({ cell: 'lstm', vocab: ['a'], hidden: 3, input: 'bytes' as 'onehot' })).toThrow(
      /input must be/,
    );
    expect(() => new CharModel({ cell: 'elman' as 'rnn', vocab: ['a'], hidden: 3 })).toThrow(/CharModel: cell must be/);
    expect(() => new CharModel({ cell: 'gru', vocab: ['a'], hidden: 3, seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => new Embedding({ vocabSize: 0, dim: 2 })).toThrow(RangeError);
  });
  it('step and window inputs', () => {
    const cell = createCell({ kind: 'lstm', inputSize: 4, hiddenSize: 3 });
    const s = cell.createState(2);
    expect(s.length).toBe(12);
    expect(() => cell.step(s, new Float32Array(7), 2)).toThrow(/x length 7, expected B\*n_x = 8/);
    expect(() => cell.step(new Float32Array(5), new Float32Array(8), 2)).toThrow(
      /state length 5, expected B\*stateSize = 12/,
    );
    expect(() => cell.step(s, [1, 2, 3, 4, 5, 6, 7, 8] as unknown as Float32Array, 2)).toThrow(TypeError);
    expect(() => cell.step(s, Int32Array.from([0, 4]), 2)).toThrow(/\[1\] must be an id in \[0, 4\), got 4/);
    const other = createCell({ kind: 'gru', inputSize: 4, hiddenSize: 3 });
    expect(() => cell.forwardSequence(other.createTape(2, 2), new Float32Array(16), s)).toThrow(
      /tape is for a gru cell with H = 3, expected lstm/,
    );
    const tape = cell.createTape(2, 2);
    expect(() => cell.backwardSequence(tape, null, null, null, null)).toThrow(/no forward pass/);
    expect(() => cell.forwardSequence(tape, new Float32Array(15), s)).toThrow(/x length 15, expected T\*B\*n_x = 16/);
    const stack = new RnnStack({ kind: 'gru', inputSize: 2, hiddenSize: 2 });
    expect(() => stack.backward(null, null, null, null)).toThrow(/no forward pass/);
    const m = new CharModel({ cell: 'gru', vocab: ['a', 'b'], hidden: 2, embeddingDim: 2 });
    const st = m.createState(1);
    expect(() => m.step(Int32Array.from([2]), st)).toThrow(/ids\[0\] must be an id in \[0, 2\), got 2/);
    expect(() => m.lossAndGrad(Int32Array.from([0, 1]), Int32Array.from([1]), 2, 1, st)).toThrow(
      /targets length 1, expected 2/,
    );
    expect(() => m.evaluate(Int32Array.from([0, 1]), Int32Array.from([1, 1]), 2, 1, new Float32Array(3))).toThrow(
      /state length 3/,
    );
    expect(() => m.lossAndGrad(Int32Array.from([0, 1]), Int32Array.from([1, 0]), 0, 1, st)).toThrow(
      /T must be a positive integer/,
    );
  });
});
