// toOnnx against onnxruntime-node: the exported file, run by onnxruntime, gives rxrnn's own
// logits and final states within 1e-5 for every cell kind (rnn, gru reset-after/before, lstm),
// 1 and 2 layers, B 1 and 4, T 1 and 64, from zero and from random initial states.
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, ortRun, ortSession, seededValues } from '../../../../test/support/onnxruntime.js';
import { CharModel, Dense, RnnStack } from '../../src/index.js';
import { fromOnnx, toOnnx } from '../../src/onnx/index.js';

const TOL = 1e-5;
const VOCAB = [...'abcdefghijkl'];
const KINDS = [
  { cell: 'rnn', gruVariant: 'reset-after' },
  { cell: 'gru', gruVariant: 'reset-after' },
  { cell: 'gru', gruVariant: 'reset-before' },
  { cell: 'lstm', gruVariant: 'reset-after' },
] as const;

const ids = (n: number, V: number, seed: number) => Int32Array.from({ length: n }, (_, i) => (i * 7 + seed * 3) % V);

describe('toOnnx(CharModel) in onnxruntime', () => {
  for (const { cell, gruVariant } of KINDS) {
    for (const layers of [1, 2]) {
      const label = `${cell}${cell === 'gru' ? ` ${gruVariant}` : ''}, ${layers} layer(s)`;
      it(`${label}: logits, hn, cn within 1e-5 for B 1|4, T 1|64, zero|random states`, async () => {
        const H = 16;
        const model = new CharModel({ cell, gruVariant, vocab: VOCAB, hidden: H, layers, embeddingDim: 8, seed: 5 });
        const session = await ortSession(toOnnx(model));
        expect(session.inputNames).toEqual(cell === 'lstm' ? ['tokens', 'h0', 'c0'] : ['tokens', 'h0']);
        expect(session.outputNames).toEqual(cell === 'lstm' ? ['logits', 'hn', 'cn'] : ['logits', 'hn']);
        for (const B of [1, 4]) {
          for (const T of [1, 64]) {
            for (const random of [false, true]) {
              const n = layers * B * H;
              const h0 = random ? seededValues(n, T + B, 0.8) : new Float32Array(n);
              const c0 = random ? seededValues(n, T + B + 1, 0.8) : new Float32Array(n);
              const tokens = ids(T * B, VOCAB.length, B + T);
              const state = model.rnn.packState(B, h0, cell === 'lstm' ? c0 : undefined);
              const logits = model.logits(tokens, T, B, state).slice();
              const final = model.rnn.unpackState(B, state);
              const out = await ortRun(session, {
                tokens: { data: tokens, dims: [T, B] },
                h0: { data: h0, dims: [layers, B, H] },
                ...(cell === 'lstm' ? { c0: { data: c0, dims: [layers, B, H] } } : {}),
              });
              const where = `B ${B}, T ${T}, ${random ? 'random' : 'zero'} states`;
              expect(maxAbsDiff(out.logits!, logits), `logits, ${where}`).toBeLessThan(TOL);
              expect(maxAbsDiff(out.hn!, final.h), `hn, ${where}`).toBeLessThan(TOL);
              if (cell === 'lstm') expect(maxAbsDiff(out.cn!, final.c!), `cn, ${where}`).toBeLessThan(TOL);
            }
          }
        }
      });
    }
  }

  it('one file serves a stream: T = 1 steps carrying hn/cn give the window of T = 6', async () => {
    const H = 12;
    const model = new CharModel({ cell: 'lstm', vocab: VOCAB, hidden: H, layers: 2, seed: 9 });
    const session = await ortSession(toOnnx(model));
    const T = 6;
    const tokens = ids(T, VOCAB.length, 4);
    const want = model.logits(tokens, T, 1, model.createState(1)).slice();
    let h: Float32Array = new Float32Array(2 * H);
    let c: Float32Array = new Float32Array(2 * H);
    for (let t = 0; t < T; t++) {
      const out = await ortRun(session, {
        tokens: { data: tokens.subarray(t, t + 1), dims: [1, 1] },
        h0: { data: h, dims: [2, 1, H] },
        c0: { data: c, dims: [2, 1, H] },
      });
      expect(maxAbsDiff(out.logits!, want.subarray(t * VOCAB.length, (t + 1) * VOCAB.length))).toBeLessThan(TOL);
      h = out.hn!;
      c = out.cn!;
    }
  });

  it('one-hot input is a OneHot node; the vocabulary travels in the metadata', async () => {
    const H = 10;
    const model = new CharModel({ cell: 'gru', vocab: VOCAB, input: 'onehot', hidden: H, layers: 2, seed: 3 });
    const bytes = toOnnx(model);
    const session = await ortSession(bytes);
    const T = 9;
    const B = 3;
    const tokens = ids(T * B, VOCAB.length, 2);
    const want = model.logits(tokens, T, B, model.createState(B)).slice();
    const out = await ortRun(session, {
      tokens: { data: tokens, dims: [T, B] },
      h0: { data: new Float32Array(2 * B * H), dims: [2, B, H] },
    });
    expect(maxAbsDiff(out.logits!, want)).toBeLessThan(TOL);
    const back = fromOnnx(bytes);
    expect(back.kind).toBe('char-model');
    if (back.kind === 'char-model') {
      expect(back.vocab).toEqual(VOCAB);
      expect(back.model.config.input).toBe('onehot');
      expect(Array.from(back.model.params)).toEqual(Array.from(model.params));
    }
  });
});

describe('toOnnx(RnnStack) in onnxruntime', () => {
  for (const withHead of [false, true]) {
    it(`lstm stack ${withHead ? 'with' : 'without'} a dense head`, async () => {
      const nX = 5;
      const H = 7;
      const L = 2;
      const stack = new RnnStack({ kind: 'lstm', inputSize: nX, hiddenSize: H, layers: L, seed: 4 });
      const head = withHead ? new Dense({ inSize: H, outSize: 3, seed: 2 }) : undefined;
      const session = await ortSession(toOnnx(stack, { head }));
      const T = 11;
      const B = 4;
      const x = seededValues(T * B * nX, 1);
      const h0 = seededValues(L * B * H, 2, 0.5);
      const c0 = seededValues(L * B * H, 3, 0.5);
      const state = stack.packState(B, h0, c0);
      let want = stack.forward(x, T, B, state).slice();
      if (head) {
        const y = new Float32Array(T * B * 3);
        head.forward(y, want, T * B);
        want = y;
      }
      const out = await ortRun(session, {
        input: { data: x, dims: [T, B, nX] },
        h0: { data: h0, dims: [L, B, H] },
        c0: { data: c0, dims: [L, B, H] },
      });
      expect(maxAbsDiff(out[withHead ? 'logits' : 'output']!, want)).toBeLessThan(TOL);
      const final = stack.unpackState(B, state);
      expect(maxAbsDiff(out.hn!, final.h)).toBeLessThan(TOL);
      expect(maxAbsDiff(out.cn!, final.c!)).toBeLessThan(TOL);
    });
  }

  it('export → import gives back the same parameters (every kind)', () => {
    for (const { cell, gruVariant } of KINDS) {
      const stack = new RnnStack({ kind: cell, gruVariant, inputSize: 4, hiddenSize: 6, layers: 2, seed: 8 });
      const head = new Dense({ inSize: 6, outSize: 2, seed: 1 });
      const back = fromOnnx(toOnnx(stack, { head }));
      expect(back.kind).toBe('stack');
      if (back.kind !== 'stack') continue;
      expect(back.stack.gruVariant).toBe(stack.gruVariant);
      expect(Array.from(back.stack.params)).toEqual(Array.from(stack.params));
      expect(Array.from(back.head!.params)).toEqual(Array.from(head.params));
    }
  });

  it('refuses what it cannot write', () => {
    const stack = new RnnStack({ kind: 'gru', inputSize: 4, hiddenSize: 6 });
    expect(() => toOnnx({} as RnnStack)).toThrow(/toOnnx: model must be a CharModel or an RnnStack, got an Object/);
    expect(() => toOnnx(stack, { head: new Dense({ inSize: 5, outSize: 2 }) })).toThrow(
      /options.head.inSize must be H = 6, got 5/,
    );
    expect(() => toOnnx(stack, { metadata: { a: 1 as unknown as string } })).toThrow(TypeError);
  });
});
