// @rxrnn/bidirectional/onnx: BidirectionalStack → ONNX run by onnxruntime-node equals rxrnn within
// 1e-5 (rnn, gru reset-after/before, lstm; 1 and 2 layers; B 1|4, T 1|64; zero|random states;
// every merge mode), and PyTorch-exported bidirectional files import to PyTorch's outputs.
import { readFileSync } from 'node:fs';
import { Dense } from '@rxrnn/cells';
import { addRecurrentLayer, DataType, OnnxGraphBuilder } from '@rxrnn/cells/onnx/internal';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, ortRun, ortSession, seededValues } from '../../../test/support/onnxruntime.js';
import { BidirectionalStack, MERGE_MODES } from '../src/index.js';
import { fromOnnx, toOnnx } from '../src/onnx/index.js';

const TOL = 1e-5;
const KINDS = [
  { kind: 'rnn', gruVariant: 'reset-after' },
  { kind: 'gru', gruVariant: 'reset-after' },
  { kind: 'gru', gruVariant: 'reset-before' },
  { kind: 'lstm', gruVariant: 'reset-after' },
] as const;

describe('toOnnx(BidirectionalStack) in onnxruntime', () => {
  for (const { kind, gruVariant } of KINDS) {
    for (const layers of [1, 2]) {
      it(`${kind}${kind === 'gru' ? ` ${gruVariant}` : ''}, ${layers} layer(s): output, hn, cn within 1e-5`, async () => {
        const nX = 6;
        const H = 9;
        const stack = new BidirectionalStack({ kind, gruVariant, inputSize: nX, hiddenSize: H, layers, seed: 7 });
        const session = await ortSession(toOnnx(stack));
        const rows = 2 * layers;
        for (const B of [1, 4]) {
          for (const T of [1, 64]) {
            for (const random of [false, true]) {
              const x = seededValues(T * B * nX, T * 10 + B);
              const h0 = random ? seededValues(rows * B * H, B, 0.7) : new Float32Array(rows * B * H);
              const c0 = random ? seededValues(rows * B * H, B + 1, 0.7) : new Float32Array(rows * B * H);
              const state = stack.packState(B, h0, kind === 'lstm' ? c0 : undefined);
              const want = stack.forward(x, T, B, state).slice();
              const final = stack.unpackState(B, state);
              const out = await ortRun(session, {
                input: { data: x, dims: [T, B, nX] },
                h0: { data: h0, dims: [rows, B, H] },
                ...(kind === 'lstm' ? { c0: { data: c0, dims: [rows, B, H] } } : {}),
              });
              const where = `B ${B}, T ${T}, ${random ? 'random' : 'zero'} states`;
              expect(maxAbsDiff(out.output!, want), `output, ${where}`).toBeLessThan(TOL);
              expect(maxAbsDiff(out.hn!, final.h), `hn, ${where}`).toBeLessThan(TOL);
              if (kind === 'lstm') expect(maxAbsDiff(out.cn!, final.c!), `cn, ${where}`).toBeLessThan(TOL);
            }
          }
        }
      });
    }
  }

  for (const merge of MERGE_MODES) {
    it(`merge '${merge}' with a dense head: logits within 1e-5; import gives the same stack back`, async () => {
      const stack = new BidirectionalStack({ kind: 'gru', inputSize: 3, hiddenSize: 5, layers: 2, merge, seed: 2 });
      const head = new Dense({ inSize: stack.outputSize, outSize: 4, seed: 3 });
      const bytes = toOnnx(stack, { head });
      const T = 13;
      const B = 3;
      const x = seededValues(T * B * 3, 5);
      const h = stack.forward(x, T, B, stack.createState(B));
      const want = new Float32Array(T * B * 4);
      head.forward(want, h, T * B);
      const out = await ortRun(await ortSession(bytes), {
        input: { data: x, dims: [T, B, 3] },
        h0: { data: new Float32Array(4 * B * 5), dims: [4, B, 5] },
      });
      expect(maxAbsDiff(out.logits!, want)).toBeLessThan(TOL);
      const back = fromOnnx(bytes);
      if (back.kind !== 'bidirectional') throw new Error(`expected a bidirectional stack, got ${back.kind}`);
      expect(back.stack.merge).toBe(merge);
      expect(Array.from(back.stack.params)).toEqual(Array.from(stack.params));
      expect(Array.from(back.head!.params)).toEqual(Array.from(head.params));
    });
  }

  it('refuses a head of the wrong width', () => {
    const stack = new BidirectionalStack({ kind: 'rnn', inputSize: 3, hiddenSize: 5 });
    expect(() => toOnnx(stack, { head: new Dense({ inSize: 5, outSize: 2 }) })).toThrow(
      /toOnnx: options.head.inSize must be the stack's outputSize 10, got 5/,
    );
    expect(() => toOnnx({} as BidirectionalStack)).toThrow(TypeError);
  });
});

const FIXTURES = new URL('../../../test/fixtures/onnx/', import.meta.url);
interface Fixture {
  inputs: Record<string, { shape: number[]; data: number[] }>;
  outputs: Record<string, { shape: number[]; data: number[] }>;
}

describe('fromOnnx: PyTorch-exported bidirectional models', () => {
  for (const name of ['gru2_bi_head', 'lstm_bi']) {
    it(`${name}: outputs and final states equal PyTorch's within 1e-5`, () => {
      const fx: Fixture = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8'));
      const r = fromOnnx(new Uint8Array(readFileSync(new URL(`${name}.onnx`, FIXTURES))));
      if (r.kind !== 'bidirectional') throw new Error(`expected a bidirectional stack, got ${r.kind}`);
      const [T, B] = fx.inputs.input!.shape as [number, number];
      const state = r.stack.packState(B, fx.inputs.h0!.data, fx.inputs.c0?.data);
      let out = r.stack.forward(Float32Array.from(fx.inputs.input!.data), T, B, state);
      if (r.head) {
        const y = new Float32Array(T * B * r.head.outSize);
        r.head.forward(y, out, T * B);
        out = y;
      }
      expect(maxAbsDiff(out, (fx.outputs.logits ?? fx.outputs.output)!.data)).toBeLessThan(TOL);
      const final = r.stack.unpackState(B, state);
      expect(maxAbsDiff(final.h, fx.outputs.hn!.data)).toBeLessThan(TOL);
      if (final.c) expect(maxAbsDiff(final.c, fx.outputs.cn!.data)).toBeLessThan(TOL);
    });
  }

  it('refuses an embedding (Gather) before bidirectional layers', () => {
    const stack = new BidirectionalStack({ kind: 'lstm', inputSize: 4, hiddenSize: 3 });
    const g = new OnnxGraphBuilder();
    const tokens = g.input('tokens', ['T', 'B'], DataType.INT64);
    const [x] = g.node('Gather', [g.floats('emb', [5, 4], seededValues(20, 1)), tokens]);
    const layer = { kind: 'lstm', gruVariant: 'reset-after', inputSize: 4, hiddenSize: 3 } as const;
    const y = addRecurrentLayer(
      g,
      x!,
      { ...layer, directions: [stack.cells[0]!.forward.params, stack.cells[0]!.reverse.params] },
      '',
      '',
    );
    const [tr] = g.node('Transpose', [y.y], { perm: { ints: [0, 2, 1, 3] } });
    g.node('Reshape', [tr!, g.ints('shape', [0, 0, 6])], {}, ['output']);
    g.output('output', ['T', 'B', 6]);
    expect(() => fromOnnx(g.encode('g'))).toThrow(
      /fromOnnx: the model embeds tokens \(Gather "tokens"\) before bidirectional layers/,
    );
  });
});
