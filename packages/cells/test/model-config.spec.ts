// A char model described by something read from outside: CharModel.layoutOf against the course
// formulas, checkCharModelConfig's limits and messages, and fromTorchStateDict refusing a config
// or a dict before it allocates anything (the WASM heap's live allocations do not change).
import { wasmMemoryInfo } from '@rxrnn/kernels';
import { describe, expect, it } from 'vitest';
import {
  CHAR_MODEL_LIMITS,
  CharModel,
  checkCharModelConfig,
  type ResolvedCharModelConfig,
  type TorchStateDict,
} from '../src/index.js';

const vocab = [...'\n abcdefgh'];
const G = { rnn: 1, gru: 3, lstm: 4 } as const;

/** The documented count: G·((H + n_x)·H + H) per layer (+ H for reset-after GRU), V·E, V·H + V. */
function formulaCount(c: ResolvedCharModelConfig): number {
  const V = c.vocab.length;
  const E = c.input === 'embedding' ? c.embeddingDim : 0;
  let n = V * E + V * c.hidden + V;
  for (let k = 0; k < c.layers; k++) {
    const nx = k > 0 ? c.hidden : E || V;
    n += G[c.cell] * ((c.hidden + nx) * c.hidden + c.hidden);
    if (c.cell === 'gru' && c.gruVariant === 'reset-after') n += c.hidden;
  }
  return n;
}

/** Live allocations and the bump pointer of the WASM heap: both stay put when nothing is allocated. */
const heapUsed = (): string => {
  const m = wasmMemoryInfo();
  return m ? `${m.live} live, ${m.heapUsed} bytes` : 'no wasm';
};

describe('CharModel.layoutOf', () => {
  it('gives the course-formula parameter count, the views and the state size without building', () => {
    const configs: ResolvedCharModelConfig[] = [];
    for (const cell of ['rnn', 'gru', 'lstm'] as const)
      for (const input of ['embedding', 'onehot'] as const)
        for (const layers of [1, 3])
          configs.push({
            cell,
            gruVariant: 'reset-after',
            vocab,
            input,
            embeddingDim: input === 'embedding' ? 5 : 0,
            hidden: 7,
            layers,
            seed: 1,
            // Dropout changes no parameter: the count and the views are those without it.
            dropout: layers > 1 ? 0.5 : 0,
            embeddingDropout: input === 'embedding' ? 0.25 : 0,
            outputDropout: 0.1,
            inputDropout: 0.2,
            recurrentDropout: 0.3,
          });
    configs.push({ ...configs[2]!, cell: 'gru', gruVariant: 'reset-before' });
    for (const c of configs) {
      const layout = CharModel.layoutOf(c);
      expect(layout.size, JSON.stringify(c)).toBe(formulaCount(c));
      const model = new CharModel(c);
      expect(layout.views).toEqual(model.views());
      expect(layout.stateSize).toBe(model.stateSize);
    }
  });
});

describe('checkCharModelConfig', () => {
  const good = { cell: 'lstm' as const, vocab, hidden: 8, embeddingDim: 4, layers: 2 };

  it('returns the resolved config, defaults filled in, in the canonical field order', () => {
    const c = checkCharModelConfig('weights', 'config', { layers: 2, embeddingDim: 4, hidden: 8, vocab, cell: 'lstm' });
    expect(Object.keys(c)).toEqual([
      'cell',
      'gruVariant',
      'vocab',
      'input',
      'embeddingDim',
      'hidden',
      'layers',
      'seed',
      'dropout',
      'embeddingDropout',
      'outputDropout',
      'inputDropout',
      'recurrentDropout',
    ]);
    expect(c).toEqual(new CharModel(good).config);
  });

  it.each<[unknown, string | RegExp]>([
    [null, 'x: config must be a model config object, got null'],
    [[1], 'x: config must be a model config object, got an array of length 1'],
    [{ ...good, layers: 100_000 }, 'x: config.layers must be an integer in [1, 64], got 100000'],
    [{ ...good, hidden: 0 }, 'x: config.hidden must be an integer in [1, 16384], got 0'],
    [{ ...good, hidden: '8' }, 'x: config.hidden must be an integer in [1, 16384], got "8"'],
    [{ ...good, embeddingDim: 2.5 }, 'x: config.embeddingDim must be an integer in [1, 16384], got 2.5'],
    [{ ...good, cell: 'transformer' }, `x: config.cell must be 'rnn' or 'gru' or 'lstm', got "transformer"`],
    [{ ...good, input: 'bytes' }, `x: config.input must be 'embedding' or 'onehot', got "bytes"`],
    [{ ...good, gruVariant: 'v3' }, `x: config.gruVariant must be 'reset-after' or 'reset-before', got "v3"`],
    [{ ...good, seed: 0.5 }, 'x: config.seed must be an integer, got 0.5'],
    [{ ...good, vocab: [] }, 'x: config.vocab must be an array of 1 to 65536 characters, got an array of length 0'],
    [{ ...good, vocab: 'abc' }, 'x: config.vocab must be an array of 1 to 65536 characters, got "abc"'],
    [{ ...good, vocab: ['a', 'bc'] }, 'x: config.vocab[1] must be one character (code point), got "bc"'],
    [{ ...good, vocab: ['a', 7] }, 'x: config.vocab[1] must be one character (code point), got 7'],
    [{ ...good, vocab: ['a', 'b', 'a'] }, 'x: config.vocab[2] "a" repeats config.vocab[0]'],
    [{ ...good, dropuot: 0.1 }, /^x: config.dropuot is not a model setting, expected only cell, gruVariant/],
    [{ ...good, dropout: 1 }, 'x: config.dropout must be a number in [0, 1), got 1'],
    [{ ...good, recurrentDropout: -0.1 }, 'x: config.recurrentDropout must be a number in [0, 1), got -0.1'],
    [{ ...good, inputDropout: '0.2' }, 'x: config.inputDropout must be a number in [0, 1), got "0.2"'],
    [{ ...good, outputDropout: Number.NaN }, 'x: config.outputDropout must be a number in [0, 1), got NaN'],
    [
      { ...good, input: 'onehot', embeddingDropout: 0.5 },
      "x: config.embeddingDropout must be 0 with input 'onehot', got 0.5",
    ],
    [
      { ...good, hidden: 16_384, layers: 64 },
      /^x: config describes a model of \d+ parameters, more than the limit of 268435456$/,
    ],
  ])('refuses %j, naming the field', (config, message) => {
    const before = heapUsed();
    expect(() => checkCharModelConfig('x', 'config', config)).toThrow(message);
    expect(heapUsed()).toBe(before);
  });

  it('accepts an astral character in the vocabulary and every limit exactly', () => {
    expect(checkCharModelConfig('x', 'c', { ...good, vocab: ['a', '𝄞'] }).vocab).toEqual(['a', '𝄞']);
    const edge = { cell: 'rnn', vocab: ['a'], hidden: 1, input: 'onehot', layers: CHAR_MODEL_LIMITS.layers };
    expect(checkCharModelConfig('x', 'c', edge).layers).toBe(64);
  });
});

describe('CharModel.fromTorchStateDict on input from outside', () => {
  const config = { cell: 'gru' as const, vocab, hidden: 6, embeddingDim: 3, layers: 2, seed: 4 };
  const dict = (): TorchStateDict => new CharModel(config).toTorchStateDict() as unknown as TorchStateDict;

  it('refuses a config out of limits and a dict that does not fit before allocating anything', () => {
    // The dicts first (each made from a model): only the refusals are measured.
    const d = dict();
    delete d['rnn.bias_hh_l1'];
    const wide = dict();
    wide['linear.weight'] = { shape: [9, 6], data: new Float32Array(54) };
    const nan = dict();
    (nan['embedding.weight']!.data as Float32Array)[5] = NaN;
    const full = dict();
    const before = heapUsed();
    expect(() => CharModel.fromTorchStateDict({ ...config, hidden: 1_000_000 }, full)).toThrow(
      'CharModel.fromTorchStateDict: config.hidden must be an integer in [1, 16384], got 1000000',
    );
    expect(() => CharModel.fromTorchStateDict(config, d)).toThrow(
      'CharModel.fromTorchStateDict: missing tensor "rnn.bias_hh_l1" [18]',
    );
    expect(() => CharModel.fromTorchStateDict(config, wide)).toThrow(
      /tensor "linear.weight" has shape \[9,6\], expected \[10, 6\]/,
    );
    expect(() => CharModel.fromTorchStateDict(config, nan)).toThrow(
      /tensor "embedding.weight" data\[5\] must be a finite number, got NaN/,
    );
    expect(() => CharModel.fromTorchStateDict(config, null as unknown as TorchStateDict)).toThrow(TypeError);
    expect(heapUsed()).toBe(before);
  });

  it('still imports a valid dict exactly', () => {
    const source = new CharModel(config);
    const back = CharModel.fromTorchStateDict(config, source.toTorchStateDict() as unknown as TorchStateDict);
    const logits = (m: CharModel) => Array.from(m.step(Int32Array.of(3), m.createState(1)));
    expect(logits(back)).toEqual(logits(source));
  });
});

describe('new CharModel(config, params)', () => {
  const config = { cell: 'lstm' as const, vocab, hidden: 6, layers: 2, embeddingDim: 3, seed: 4 };

  it('holds a copy of the given weights instead of initializing, and steps as the model they came from', () => {
    const source = new CharModel(config);
    const trained = source.params.map((x, i) => x + Math.sin(i)); // not what the seed initializes
    source.params.set(trained);
    const copy = new CharModel(config, trained);
    expect(copy.params).toEqual(trained);
    expect(copy.params.buffer).not.toBe(trained.buffer);
    const logits = (m: CharModel) => Array.from(m.step(Int32Array.of(3, 1), m.createState(2)));
    expect(logits(copy)).toEqual(logits(source));
  });

  it('refuses weights of another length or type, naming the count', () => {
    const n = CharModel.layoutOf(config).size;
    expect(() => new CharModel(config, new Float32Array(n - 1))).toThrow(
      new RangeError(`CharModel: params must hold the config's ${n} parameters, got ${n - 1}`),
    );
    expect(() => new CharModel(config, new Float64Array(n) as unknown as Float32Array)).toThrow(TypeError);
  });
});
