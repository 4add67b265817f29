// The public API: names, parameter counts (the course formulas, twice per layer), PyTorch naming and
// round trips with the `_reverse` suffix, state packing, and argument errors.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BidirectionalStack, bidirectional, SequenceClassifier, SequenceTagger } from '../src/index.js';

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'torch');

describe('@rxrnn/bidirectional API', () => {
  it('counts parameters as two course-formula cells per layer (layer k > 0 reads 2H)', () => {
    const nX = 3;
    const H = 4;
    const lstm = (n: number) => 4 * ((H + n) * H + H);
    expect(new BidirectionalStack({ kind: 'lstm', inputSize: nX, hiddenSize: H }).paramCount()).toBe(2 * lstm(nX));
    expect(new BidirectionalStack({ kind: 'lstm', inputSize: nX, hiddenSize: H, layers: 2 }).paramCount()).toBe(
      2 * lstm(nX) + 2 * lstm(2 * H),
    );
    const rnn = (n: number) => (H + n) * H + H;
    expect(new BidirectionalStack({ kind: 'rnn', inputSize: nX, hiddenSize: H }).paramCount()).toBe(2 * rnn(nX));
    // Reset-after GRU: H more per direction (b_hn), as in @rxrnn/cells.
    expect(new BidirectionalStack({ kind: 'gru', inputSize: nX, hiddenSize: H }).paramCount()).toBe(
      2 * (3 * ((H + nX) * H + H) + H),
    );
  });

  it('exports in PyTorch state_dict order with _reverse names, and re-imports bit for bit', () => {
    const fixture = JSON.parse(readFileSync(join(fixtureDir, 'module_gru_L2_bi_nx5.json'), 'utf8'));
    const a = new BidirectionalStack({ kind: 'gru', inputSize: 5, hiddenSize: 3, layers: 2, seed: 4 });
    const dict = a.toTorch('params', { prefix: 'rnn.' });
    expect(Object.keys(dict)).toEqual(fixture.param_names.map((n: string) => `rnn.${n}`));
    for (const n of fixture.param_names) expect(dict[`rnn.${n}`]!.shape).toEqual(fixture.params[n].shape);
    const b = new BidirectionalStack({ kind: 'gru', inputSize: 5, hiddenSize: 3, layers: 2, seed: 5 });
    expect(b.params).not.toEqual(a.params);
    b.fromTorch(dict, { prefix: 'rnn.' });
    expect(b.params).toEqual(a.params);
    expect(() => b.fromTorch(dict)).toThrow(/missing tensor "weight_ih_l0"/);
  });

  it('packs PyTorch h0/c0 [L·2, B, H] as layer*2 + direction and unpacks them back', () => {
    const s = new BidirectionalStack({ kind: 'lstm', inputSize: 2, hiddenSize: 3, layers: 2 });
    const B = 2;
    const n = 4 * B * 3;
    const h = Float32Array.from({ length: n }, (_, i) => i);
    const c = Float32Array.from({ length: n }, (_, i) => -i);
    const state = s.packState(B, h, c);
    // Layer 1, reverse = index 3: its h block follows three [h | c] blocks.
    expect(Array.from(s.directionState(state, 1, 1, B).subarray(0, 6))).toEqual([18, 19, 20, 21, 22, 23]);
    expect(Array.from(s.directionState(state, 1, 1, B).subarray(6))).toEqual([-18, -19, -20, -21, -22, -23]);
    const back = s.unpackState(B, state);
    expect(back.h).toEqual(h);
    expect(back.c).toEqual(c);
  });

  it('rejects bad arguments, naming what was expected', () => {
    expect(() => new BidirectionalStack({ kind: 'lstm', inputSize: 3, hiddenSize: 4, merge: 'max' as never })).toThrow(
      /merge must be one of 'concat', 'sum', 'mul', 'ave', got "max"/,
    );
    expect(() => new BidirectionalStack({ kind: 'lstm', inputSize: 3, hiddenSize: 4, layers: 0 })).toThrow(RangeError);
    expect(() => new BidirectionalStack({ kind: 'cnn' as never, inputSize: 3, hiddenSize: 4 })).toThrow(
      /kind must be 'rnn', 'gru' or 'lstm'/,
    );
    const s = new BidirectionalStack({ kind: 'rnn', inputSize: 3, hiddenSize: 4 });
    expect(() => s.backward(null, null, null, null)).toThrow(/no forward pass/);
    expect(() => s.forward(new Float32Array(6), 2, 1, new Float32Array(3))).toThrow(
      /state length 3, expected B\*stateSize = 8/,
    );
    expect(() => s.forward(new Float32Array(5), 2, 1, s.createState(1))).toThrow(
      /input length 5, expected T\*B\*n_x = 6/,
    );
    s.forward(Int32Array.of(0, 2), 2, 1, s.createState(1));
    expect(() => s.backward(null, null, new Float32Array(6), null)).toThrow(/token ids/);
    expect(() => s.packState(1, new Float32Array(3))).toThrow(/h length 3, expected L\*2\*B\*H = 8/);
    expect(
      () => new SequenceTagger({ cell: 'gru', vocabSize: 4, hidden: 3, classes: 2, directions: 3 as never }),
    ).toThrow(/directions 3, expected 1 or 2/);
    expect(
      () => new SequenceClassifier({ cell: 'gru', vocabSize: 4, hidden: 3, classes: 2, pool: 'max' as never }),
    ).toThrow(/pool must be 'final' or 'mean', got "max"/);
    const cell = s.cells[0]!.forward;
    expect(() => bidirectional(cell, cell, { window: { size: 2 } })).toThrow(/same cell for both directions/);
    expect(() => bidirectional(s, { window: { size: 2, hop: 3 } })).toThrow(
      /window.hop must be an integer in \[1, 2\], got 3/,
    );
    expect(() => bidirectional(s, { window: {} })).toThrow(
      /window.size must be a positive integer \(or give a window.delimiter\), got undefined/,
    );
    expect(() => bidirectional(s, { window: { size: 2, maxLatency: -1 } })).toThrow(
      /maxLatency must be a finite number of milliseconds >= 0, got -1/,
    );
    expect(() => bidirectional(s, { window: { size: 2 }, initialState: new Float32Array(2) })).toThrow(
      /initialState length 2, expected B\*stateSize = 8/,
    );
  });
});
