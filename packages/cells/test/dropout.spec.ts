// Dropout: the masks (values, rates, seeding, batch-split invariance), training-only application
// (evaluate, logits, step, the operators and generate are the model without dropout), and the
// gradients of every dropout kind with fixed masks against float64 finite differences of an
// independent forward that applies the same masks (test/f64-oracle.ts).
import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CellKind,
  CharModel,
  type CharModelConfig,
  type GruVariant,
  generate,
  lstm,
  RnnStack,
} from '../src/index.js';
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
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** Every value is 0 or 1/(1 − p) in float32, and both occur (so the mask really drops and keeps). */
const expectMask = (m: Float32Array | null, p: number) => {
  expect(m).not.toBeNull();
  const keep = Math.fround(1 / (1 - p));
  const values = new Set(m);
  expect([...values].sort()).toEqual([0, keep].sort());
};

const vocab = ['a', 'b', 'c', 'd', 'e'];
const DROP = { dropout: 0.4, embeddingDropout: 0.3, outputDropout: 0.35, inputDropout: 0.3, recurrentDropout: 0.4 };

describe('dropout masks', () => {
  it('are 0 with probability p and 1/(1 − p) otherwise (262,144 draws within 5 sigma)', () => {
    for (const p of [0.1, 0.5]) {
      const model = new CharModel({ cell: 'lstm', vocab, hidden: 128, embeddingDim: 8, outputDropout: p, seed: 1 });
      const T = 64;
      const B = 32;
      const ids = new Int32Array(T * B);
      model.lossAndGrad(ids, ids, T, B, model.createState(B), { seed: 9 });
      const m = model.lastDropoutMasks()!.output!;
      expectMask(m, p);
      const zeros = m.filter((v) => v === 0).length;
      const sigma = Math.sqrt(m.length * p * (1 - p));
      expect(Math.abs(zeros - m.length * p)).toBeLessThan(5 * sigma);
    }
  });

  it('repeat for the same draw, change with the seed, and do not depend on how the batch is split', () => {
    const config: CharModelConfig = { cell: 'gru', vocab, hidden: 6, embeddingDim: 3, layers: 2, seed: 2, ...DROP };
    const T = 5;
    const B = 4;
    const inputs = Int32Array.from(testValues(T * B, 3), (v) => Math.floor((v + 1) * 2.5));
    const targets = Int32Array.from(testValues(T * B, 4), (v) => Math.floor((v + 1) * 2.5));
    const full = new CharModel(config);
    const a = full.lossAndGrad(inputs, targets, T, B, full.createState(B), { seed: 42 });
    const masks = full.lastDropoutMasks()!;
    full.lossAndGrad(inputs, targets, T, B, full.createState(B), { seed: 42 });
    expect(full.lastDropoutMasks()).toEqual(masks);
    full.lossAndGrad(inputs, targets, T, B, full.createState(B), { seed: 43 });
    expect(full.lastDropoutMasks()!.embedding).not.toEqual(masks.embedding);

    // Rows [0, 2) and [2, 4) drawn with firstRow 0 and 2: the same masks, so the same losses.
    const half = (rows: number[]) => Int32Array.from({ length: T * 2 }, (_, i) => rows[i % 2]! + 4 * Math.floor(i / 2));
    let lossSum = 0;
    for (const first of [0, 2]) {
      const idx = half([first, first + 1]);
      const m = new CharModel(config);
      const r = m.lossAndGrad(
        Int32Array.from(idx, (i) => inputs[i]!),
        Int32Array.from(idx, (i) => targets[i]!),
        T,
        2,
        m.createState(2),
        { seed: 42, firstRow: first },
      );
      lossSum += r.lossSum;
      const hm = m.lastDropoutMasks()!;
      const E = 3;
      for (let i = 0; i < T * 2; i++) {
        const row = idx[i]!;
        expect(hm.embedding!.subarray(i * E, (i + 1) * E)).toEqual(masks.embedding!.subarray(row * E, (row + 1) * E));
      }
      expect(hm.layers[1]!.recurrent).toEqual(masks.layers[1]!.recurrent!.subarray(first * 6, (first + 2) * 6));
    }
    expect(Math.abs(lossSum - a.lossSum)).toBeLessThan(1e-5);
  });

  it('without a draw, lossAndGrad draws from the model seed: same seed, same sequence', () => {
    const config: CharModelConfig = { cell: 'lstm', vocab, hidden: 8, embeddingDim: 4, seed: 5, outputDropout: 0.5 };
    const ids = Int32Array.from({ length: 12 }, (_, i) => i % 5);
    const run = () => {
      const m = new CharModel(config);
      return [0, 1, 2].map(() => m.lossAndGrad(ids, ids, 6, 2, m.createState(2)).lossSum);
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(new Set(first).size).toBe(3); // a new mask every window
  });
});

describe('dropout is training only', () => {
  const base: CharModelConfig = { cell: 'lstm', vocab, hidden: 16, embeddingDim: 8, layers: 2, seed: 8 };
  const withDrop = new CharModel({ ...base, ...DROP });
  const without = new CharModel(base);
  it('initial weights do not depend on the dropout settings', () => {
    expect(bits(withDrop.params).equals(bits(without.params))).toBe(true);
  });

  it('evaluate, logits and step give bitwise the model without dropout', () => {
    const T = 6;
    const B = 3;
    const inputs = Int32Array.from({ length: T * B }, (_, i) => (i * 7) % 5);
    const targets = Int32Array.from({ length: T * B }, (_, i) => (i * 3) % 5);
    const sA = withDrop.createState(B);
    const sB = without.createState(B);
    expect(withDrop.evaluate(inputs, targets, T, B, sA)).toEqual(without.evaluate(inputs, targets, T, B, sB));
    expect(bits(sA).equals(bits(sB))).toBe(true);
    expect(bits(withDrop.logits(inputs, T, B, sA)).equals(bits(without.logits(inputs, T, B, sB)))).toBe(true);
    const a = withDrop.createState(1);
    const b = without.createState(1);
    for (let t = 0; t < 10; t++) {
      const id = Int32Array.of(t % 5);
      expect(bits(withDrop.step(id, a)).equals(bits(without.step(id, b)))).toBe(true);
    }
    // lossAndGrad does apply it: a different loss from the same window.
    const tr = withDrop.lossAndGrad(inputs, targets, T, B, withDrop.createState(B), { seed: 1 });
    const ev = without.evaluate(inputs, targets, T, B, without.createState(B));
    expect(Math.abs(tr.lossSum - ev.lossSum)).toBeGreaterThan(1e-3);
    // ... and an evaluation after it is unaffected by the masks it drew.
    expect(withDrop.evaluate(inputs, targets, T, B, withDrop.createState(B))).toEqual(ev);
    expect(withDrop.lastDropoutMasks()).toBeNull();
  });

  it('generate() and the cell operators are the model without dropout', async () => {
    const opts = { prime: 'ab', length: 30, temperature: 0.8, seed: 3 };
    const a = await firstValueFrom(generate(withDrop, opts).pipe(toArray()));
    const b = await firstValueFrom(generate(without, opts).pipe(toArray()));
    expect(a.join('')).toBe(b.join(''));
    const stackA = new RnnStack({ kind: 'lstm', inputSize: 3, hiddenSize: 5, layers: 2, seed: 1, ...DROP });
    const stackB = new RnnStack({ kind: 'lstm', inputSize: 3, hiddenSize: 5, layers: 2, seed: 1 });
    const xs = [0, 1, 2, 3].map((i) => Float32Array.from(testValues(3, 30 + i)));
    const outA = await firstValueFrom(from(xs).pipe(lstm(stackA), toArray()));
    const outB = await firstValueFrom(from(xs).pipe(lstm(stackB), toArray()));
    expect(outA).toEqual(outB);
  });

  it('a zero config, or a draw given to a model without dropout, changes nothing (bitwise)', () => {
    const zero = new CharModel({ ...base, dropout: 0, inputDropout: 0, recurrentDropout: 0 });
    const T = 4;
    const B = 2;
    const ids = Int32Array.from({ length: T * B }, (_, i) => i % 5);
    zero.zeroGrads();
    without.zeroGrads();
    const r1 = zero.lossAndGrad(ids, ids, T, B, zero.createState(B), { seed: 7 });
    const r2 = without.lossAndGrad(ids, ids, T, B, without.createState(B));
    expect(r1).toEqual(r2);
    expect(bits(zero.grads).equals(bits(without.grads))).toBe(true);
    expect(zero.lastDropoutMasks()).toBeNull();
  });
});

describe('dropout config and draws are checked', () => {
  it.each([
    [{ dropout: 1 }, /CharModel: dropout must be a number in \[0, 1\), got 1/],
    [{ inputDropout: -0.1 }, /CharModel: inputDropout must be a number in \[0, 1\), got -0.1/],
    [{ recurrentDropout: Number.NaN }, /recurrentDropout must be a number in \[0, 1\), got NaN/],
    [{ outputDropout: '0.2' as unknown as number }, /outputDropout must be a number in \[0, 1\), got "0.2"/],
    [{ input: 'onehot', embeddingDropout: 0.2 } as const, /embeddingDropout needs input 'embedding'/],
  ])('%o', (extra, message) => {
    expect(() => new CharModel({ cell: 'lstm', vocab, hidden: 4, ...extra } as CharModelConfig)).toThrow(message);
  });

  it('a bad draw or mask is refused', () => {
    const m = new CharModel({ cell: 'lstm', vocab, hidden: 4, embeddingDim: 2, outputDropout: 0.2 });
    const ids = Int32Array.of(0, 1);
    expect(() => m.lossAndGrad(ids, ids, 1, 2, m.createState(2), { seed: 0.5 })).toThrow(
      /lossAndGrad: dropout.seed must be an integer, got 0.5/,
    );
    expect(() => m.lossAndGrad(ids, ids, 1, 2, m.createState(2), { seed: 1, firstRow: -1 })).toThrow(
      /dropout.firstRow must be a non-negative integer, got -1/,
    );
    const stack = new RnnStack({ kind: 'gru', inputSize: 2, hiddenSize: 3 });
    const cell = stack.cells[0]!;
    expect(() =>
      cell.forwardSequence(cell.createTape(1, 2), new Float32Array(4), cell.createState(2), {
        recurrent: new Float32Array(5),
      }),
    ).toThrow(/gru.forwardSequence: masks.recurrent length 5, expected B\*H = 6/);
    expect(() => new RnnStack({ kind: 'rnn', inputSize: 2, hiddenSize: 3, dropout: 2 })).toThrow(
      /RnnStack: dropout must be a number in \[0, 1\), got 2/,
    );
  });
});

const CASES: { kind: CellKind; variant: GruVariant }[] = [
  { kind: 'rnn', variant: 'reset-after' },
  { kind: 'gru', variant: 'reset-after' },
  { kind: 'gru', variant: 'reset-before' },
  { kind: 'lstm', variant: 'reset-after' },
];

describe('stack gradients with fixed dropout masks vs float64 finite differences', () => {
  for (const { kind, variant } of CASES) {
    it(`${kind}${kind === 'gru' ? ` ${variant}` : ''}, 2 layers: between-layer, input and recurrent masks`, () => {
      const nx = 3;
      const H = 4;
      const T = 3;
      const B = 2;
      const stack = new RnnStack({
        kind,
        inputSize: nx,
        hiddenSize: H,
        layers: 2,
        gruVariant: variant,
        seed: 5,
        dropout: 0.4,
        inputDropout: 0.3,
        recurrentDropout: 0.4,
      });
      stack.params.set(testValues(stack.paramCount(), 11, 0.6));
      const p = Float64Array.from(stack.params);
      const X = Float64Array.from(Float32Array.from(testValues(T * B * nx, 12)));
      const s0 = Float64Array.from(Float32Array.from(testValues(B * stack.stateSize, 13, 0.5)));
      const Gout = testValues(T * B * H, 14);
      const Gs = testValues(B * stack.stateSize, 15);

      const state = Float32Array.from(s0);
      const out = stack.forward(Float32Array.from(X), T, B, state, { seed: 21 });
      const masks = stack.lastDropoutMasks()!;
      expectMask(masks.layers[0]!.output, 0.4);
      expectMask(masks.layers[0]!.input, 0.3);
      expectMask(masks.layers[1]!.recurrent, 0.4);
      expect(masks.layers[1]!.output).toBeNull(); // PyTorch: not after the last layer
      const spec: StackSpec = {
        kind,
        variant,
        inputSize: nx,
        hidden: H,
        layers: 2,
        views: stack.views(),
        masks: masks.layers,
      };
      const ref = stackForward(spec, p, X, false, s0, T, B);
      expect(maxDiff(out, ref.out)).toBeLessThan(1e-5);
      expect(maxDiff(state, ref.state)).toBeLessThan(1e-5);
      // The masks matter: without them the oracle computes something else.
      expect(maxDiff(out, stackForward({ ...spec, masks: undefined }, p, X, false, s0, T, B).out)).toBeGreaterThan(
        1e-3,
      );

      const dX = new Float32Array(X.length);
      const dS0 = new Float32Array(s0.length);
      stack.backward(Float32Array.from(Gout), Float32Array.from(Gs), dX, dS0);
      const loss = () => {
        const r = stackForward(spec, p, X, false, s0, T, B);
        return dot(r.out, Gout) + dot(r.state, Gs);
      };
      const gp = worstGradError(stack.grads, loss, p);
      expect(gp.err, `param @${gp.at}`).toBeLessThan(TOL);
      expect(worstGradError(dX, loss, X).err, 'input').toBeLessThan(TOL);
      expect(worstGradError(dS0, loss, s0).err, 'initial state').toBeLessThan(TOL);
    });
  }
});

describe('char model gradients with fixed dropout masks vs float64 finite differences', () => {
  const MODELS: { kind: CellKind; variant: GruVariant; onehot: boolean }[] = [
    { kind: 'lstm', variant: 'reset-after', onehot: false },
    { kind: 'gru', variant: 'reset-before', onehot: false },
    { kind: 'gru', variant: 'reset-after', onehot: true },
    { kind: 'rnn', variant: 'reset-after', onehot: true },
  ];
  for (const m of MODELS) {
    it(`${m.kind}${m.kind === 'gru' ? ` ${m.variant}` : ''}, ${m.onehot ? 'one-hot' : 'embedding'}, 2 layers, every dropout`, () => {
      const V = 5;
      const E = 3;
      const H = 4;
      const T = 3;
      const B = 2;
      const model = new CharModel({
        cell: m.kind,
        gruVariant: m.variant,
        vocab,
        input: m.onehot ? 'onehot' : 'embedding',
        embeddingDim: E,
        hidden: H,
        layers: 2,
        seed: 3,
        ...DROP,
        embeddingDropout: m.onehot ? 0 : DROP.embeddingDropout,
      });
      model.params.set(testValues(model.paramCount(), 21, 0.6));
      const p = Float64Array.from(model.params);
      const inputs = Int32Array.from([0, 3, 4, 1, 2, 2]);
      const targets = Int32Array.from([3, 4, 1, 0, 2, 4]);
      const s0 = Float64Array.from(Float32Array.from(testValues(B * model.stateSize, 22, 0.5)));

      model.zeroGrads();
      const state = Float32Array.from(s0);
      const { lossSum, count } = model.lossAndGrad(inputs, targets, T, B, state, { seed: 1234 });
      const masks = model.lastDropoutMasks()!;
      if (!m.onehot) expectMask(masks.embedding, DROP.embeddingDropout);
      expectMask(masks.output, DROP.outputDropout);
      const spec = {
        kind: m.kind,
        variant: m.variant,
        V,
        E,
        H,
        layers: 2,
        onehot: m.onehot,
        views: model.views(),
        masks,
      };
      const ref = charLoss(spec, p, inputs, targets, s0, T, B);
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
    });
  }
});
