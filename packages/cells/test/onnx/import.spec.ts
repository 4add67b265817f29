// fromOnnx on files PyTorch's exporter wrote (test/fixtures/onnx, made by
// tools/torch/gen_onnx_fixtures.py with torch 1.13): each imported model gives PyTorch's outputs
// (saved by the same script, float64) within 1e-5. Refusals: valid files mutated with the
// protobuf schema so that they hold what rxrnn cannot compute exactly.
import { readFileSync } from 'node:fs';
import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, ortRun, ortSession, seededValues } from '../../../../test/support/onnxruntime.js';
import { RnnStack } from '../../src/index.js';
import { fromOnnx, toOnnx } from '../../src/onnx/index.js';
import {
  DataType,
  type IModelProto,
  type INodeProto,
  OnnxGraphBuilder,
  onnx,
  onnxWeightsOf,
} from '../../src/onnx/internal.js';

const FIXTURES = new URL('../../../../test/fixtures/onnx/', import.meta.url);
const TOL = 1e-5;

interface Fixture {
  inputs: Record<string, { shape: number[]; data: number[] }>;
  outputs: Record<string, { shape: number[]; data: number[] }>;
  vocab?: string[];
}

const bytesOf = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.onnx`, FIXTURES)));
const fixtureOf = (name: string): Fixture => JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8'));

/** [A, B, ...rest] → [B, A, ...rest] (batch-first ↔ time-major). */
function swap01<T extends Float32Array | Int32Array>(
  src: ArrayLike<number>,
  a: number,
  b: number,
  rest: number,
  out: T,
): T {
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let r = 0; r < rest; r++) out[(j * a + i) * rest + r] = src[(i * b + j) * rest + r]!;
  return out;
}

describe('fromOnnx: PyTorch-exported char models', () => {
  for (const name of ['gru_char', 'lstm2_char']) {
    it(`${name}: logits and final states equal PyTorch's within 1e-5`, () => {
      const fx = fixtureOf(name);
      const r = fromOnnx(bytesOf(name), { vocab: fx.vocab });
      expect(r.kind).toBe('char-model');
      if (r.kind !== 'char-model') return;
      expect(r.info.producer).toMatch(/^pytorch 1\.13/);
      expect(r.info.inputs).toEqual({ data: 'tokens', h0: 'h0', c0: name.startsWith('lstm') ? 'c0' : null });
      const [T, B] = fx.inputs.tokens!.shape as [number, number];
      const model = r.model;
      const state = model.rnn.packState(B, fx.inputs.h0!.data, fx.inputs.c0?.data);
      const logits = model.logits(Int32Array.from(fx.inputs.tokens!.data), T, B, state);
      expect(maxAbsDiff(logits, fx.outputs.logits!.data)).toBeLessThan(TOL);
      const final = model.rnn.unpackState(B, state);
      expect(maxAbsDiff(final.h, fx.outputs.hn!.data)).toBeLessThan(TOL);
      if (final.c) expect(maxAbsDiff(final.c, fx.outputs.cn!.data)).toBeLessThan(TOL);
    });
  }

  it('lstm_char_batch_first: the Transposes around a batch-first LSTM are followed', () => {
    const fx = fixtureOf('lstm_char_batch_first');
    const r = fromOnnx(bytesOf('lstm_char_batch_first'), { vocab: fx.vocab });
    if (r.kind !== 'char-model') throw new Error(`expected a char model, got ${r.kind}`);
    expect(r.info.inputs.h0).toBeNull();
    const [B, T] = fx.inputs.tokens!.shape as [number, number];
    const V = fx.vocab!.length;
    const tokens = swap01(fx.inputs.tokens!.data, B, T, 1, new Int32Array(T * B));
    const logits = r.model.logits(tokens, T, B, r.model.createState(B));
    const batchFirst = swap01(logits, T, B, V, new Float32Array(T * B * V));
    expect(maxAbsDiff(batchFirst, fx.outputs.logits!.data)).toBeLessThan(TOL);
  });

  it('rnn2_stack: float input, no head → an RnnStack', () => {
    const fx = fixtureOf('rnn2_stack');
    const r = fromOnnx(bytesOf('rnn2_stack'));
    if (r.kind !== 'stack') throw new Error(`expected a stack, got ${r.kind}`);
    expect(r.head).toBeNull();
    expect(r.stack.kind).toBe('rnn');
    const [T, B, nX] = fx.inputs.input!.shape as [number, number, number];
    expect(r.stack.inputSize).toBe(nX);
    const state = r.stack.packState(B, fx.inputs.h0!.data);
    const out = r.stack.forward(Float32Array.from(fx.inputs.input!.data), T, B, state);
    expect(maxAbsDiff(out, fx.outputs.output!.data)).toBeLessThan(TOL);
    expect(maxAbsDiff(r.stack.unpackState(B, state).h, fx.outputs.hn!.data)).toBeLessThan(TOL);
  });

  it('the vocabulary comes from options.vocab or the metadata, with its length checked', () => {
    const fx = fixtureOf('gru_char');
    expect(() => fromOnnx(bytesOf('gru_char'))).toThrow(
      /fromOnnx: the file has no "vocab" metadata; pass options.vocab, the 19 characters in id order/,
    );
    expect(() => fromOnnx(bytesOf('gru_char'), { vocab: fx.vocab!.slice(1) })).toThrow(
      /options.vocab must hold V = 19 characters, got an array of length 18/,
    );
    const m = decode('gru_char');
    m.metadataProps = [{ key: 'vocab', value: JSON.stringify(fx.vocab) }];
    const r = fromOnnx(encode(m));
    expect(r.kind === 'char-model' && r.vocab).toEqual(fx.vocab);
  });

  it('bidirectional files are pointed to @rxrnn/bidirectional/onnx', () => {
    expect(() => fromOnnx(bytesOf('gru2_bi_head'))).toThrow(
      /fromOnnx: node "\/rnn\/GRU" is bidirectional; read the file with fromOnnx of @rxrnn\/bidirectional\/onnx/,
    );
  });
});

function decode(name: string): Model {
  return onnx.ModelProto.decode(bytesOf(name));
}
function encode(m: IModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}
function nodeOf(m: IModelProto, op: string, i = 0): INodeProto {
  const n = m.graph!.node!.filter((x) => x.opType === op)[i];
  if (!n) throw new Error(`no ${op} node ${i}`);
  return n;
}
const enc = new TextEncoder();
type Model = ReturnType<typeof onnx.ModelProto.decode>;

describe('fromOnnx: a GRU with linear_before_reset = 0 is the reset-before GRU', () => {
  it("the mutated file's onnxruntime outputs equal the imported model's", async () => {
    const fx = fixtureOf('gru_char');
    const m = decode('gru_char');
    const gru = nodeOf(m, 'GRU');
    gru.attribute = gru.attribute!.filter((a) => a.name !== 'linear_before_reset');
    gru.attribute.push({ name: 'linear_before_reset', type: 2, i: 0 });
    const bytes = encode(m);
    const r = fromOnnx(bytes, { vocab: fx.vocab });
    if (r.kind !== 'char-model') throw new Error('expected a char model');
    expect(r.model.config.gruVariant).toBe('reset-before');
    const [T, B] = fx.inputs.tokens!.shape as [number, number];
    const tokens = Int32Array.from(fx.inputs.tokens!.data);
    const h0 = Float32Array.from(fx.inputs.h0!.data);
    const out = await ortRun(await ortSession(bytes), {
      tokens: { data: tokens, dims: [T, B] },
      h0: { data: h0, dims: fx.inputs.h0!.shape },
    });
    const state = r.model.rnn.packState(B, h0);
    expect(maxAbsDiff(r.model.logits(tokens, T, B, state), out.logits!)).toBeLessThan(TOL);
    // The reset-after original computes something else on the same weights.
    expect(maxAbsDiff(out.logits!, fx.outputs.logits!.data)).toBeGreaterThan(1e-3);
  });
});

describe('fromOnnx refuses what it cannot compute exactly, naming the node and attribute', () => {
  const vocab = fixtureOf('lstm2_char').vocab;
  const refuse = (mutate: (m: Model) => void, message: RegExp) => {
    const m = decode('lstm2_char');
    mutate(m);
    expect(() => fromOnnx(encode(m), { vocab })).toThrow(message);
  };

  it('clip', () =>
    refuse(
      (m) => nodeOf(m, 'LSTM').attribute!.push({ name: 'clip', type: 1, f: 3 }),
      /fromOnnx: node "\/rnn\/LSTM" \(LSTM\) attribute clip must be absent \(rxrnn's cells never clip their pre-activations\), got 3/,
    ));

  it('peepholes', () =>
    refuse((m) => {
      m.graph!.initializer!.push({ name: 'P', dims: [1, 24], dataType: 1, floatData: Array(24).fill(0.1) });
      nodeOf(m, 'LSTM', 1).input!.push('P');
    }, /node "\/rnn\/LSTM_1" \(LSTM\) input P \(peephole weights\) must be absent or zero/));

  it('non-default activations', () =>
    refuse(
      (m) =>
        nodeOf(m, 'LSTM').attribute!.push({
          name: 'activations',
          type: 8,
          strings: ['Sigmoid', 'Relu', 'Tanh'].map((s) => enc.encode(s)),
        }),
      /attribute activations must be \[Sigmoid, Tanh, Tanh\] \(the LSTM defaults\), got \[Sigmoid, Relu, Tanh\]/,
    ));

  it('input_forget', () =>
    refuse(
      (m) => nodeOf(m, 'LSTM').attribute!.push({ name: 'input_forget', type: 2, i: 1 }),
      /node "\/rnn\/LSTM" \(LSTM\) attribute input_forget must be 0/,
    ));

  it('a reverse-only direction', () =>
    refuse(
      (m) => nodeOf(m, 'LSTM').attribute!.push({ name: 'direction', type: 3, s: enc.encode('reverse') }),
      /attribute direction must be "forward" or "bidirectional" \(a reverse-only layer cannot run on a stream\), got "reverse"/,
    ));

  it('sequence_lens', () =>
    refuse((m) => {
      m.graph!.input!.push({
        name: 'lens',
        type: { tensorType: { elemType: 6, shape: { dim: [{ dimParam: 'B' }] } } },
      });
      nodeOf(m, 'LSTM').input![4] = 'lens';
    }, /node "\/rnn\/LSTM" \(LSTM\) input sequence_lens must be absent/));

  it('another op on the recurrent path', () =>
    refuse((m) => {
      const squeeze = nodeOf(m, 'Squeeze');
      const relu = { name: 'relu', opType: 'Relu', input: [squeeze.output![0]!], output: ['relu_out'] };
      nodeOf(m, 'LSTM', 1).input![0] = 'relu_out';
      m.graph!.node!.push(relu);
    }, /fromOnnx: node "relu" \(Relu\) is not supported on the path from the input to the output/));

  it('a hidden_size that disagrees with W', () =>
    refuse((m) => {
      const a = nodeOf(m, 'LSTM').attribute!.find((x) => x.name === 'hidden_size')!;
      a.i = 7;
    }, /attribute hidden_size is 7, but W \[1, 32, 6\] holds H = 8/));

  it('float64 weights', () =>
    refuse((m) => {
      const w = m.graph!.initializer!.find((t) => t.name === nodeOf(m, 'LSTM').input![1])!;
      w.dataType = 11;
      w.rawData = new Uint8Array(w.rawData!.length * 2);
    }, /W: tensor "[^"]+" must have data type FLOAT \(float32\), got DOUBLE/));

  it('weights in an external file', () =>
    refuse((m) => {
      const w = m.graph!.initializer!.find((t) => t.name === nodeOf(m, 'LSTM').input![2])!;
      w.dataLocation = 1;
      w.externalData = [{ key: 'location', value: 'weights.bin' }];
    }, /keeps its data in an external file/));

  it('raw data of the wrong length and non-finite weights', () => {
    refuse((m) => {
      const w = m.graph!.initializer!.find((t) => t.name === 'embedding.weight')!;
      w.rawData = w.rawData!.subarray(4);
    }, /tensor "embedding.weight" raw data length 452, expected 4\*114 = 456/);
    refuse((m) => {
      const w = m.graph!.initializer!.find((t) => t.name === 'linear.bias')!;
      new DataView(w.rawData!.buffer, w.rawData!.byteOffset).setFloat32(8, Number.NaN, true);
    }, /tensor "linear.bias" element 2 must be a finite number, got NaN/);
  });

  it('bytes that are not an ONNX model', () => {
    const good = bytesOf('lstm2_char');
    expect(() => fromOnnx(good.subarray(0, good.length >> 1))).toThrow(/fromOnnx: bytes must be an ONNX model/);
    expect(() => fromOnnx(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(RangeError);
    expect(() => fromOnnx(new Uint8Array(0))).toThrow(/bytes must be an ONNX model, got 0 bytes/);
    expect(() => fromOnnx('model.onnx' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('fromOnnx follows the shape plumbing, whatever its arrangement', () => {
  it('Cast, Unsqueeze/Squeeze, Transposes, Reshape to [T·B, H] and a Gemm head: onnxruntime agrees', async () => {
    const V = 7;
    const E = 4;
    const H = 5;
    const src = fromOnnx(toOnnx(new RnnStack({ kind: 'lstm', inputSize: E, hiddenSize: H, seed: 3 })));
    if (src.kind !== 'stack') throw new Error('expected a stack');
    const w = onnxWeightsOf('lstm', 'reset-after', E, H, src.stack.params);
    const emb = seededValues(V * E, 1);
    const headW = seededValues(V * H, 2);
    const headB = seededValues(V, 3);
    const g = new OnnxGraphBuilder();
    const tokens = g.input('tokens', ['T', 'B'], DataType.INT32);
    const [ids] = g.node('Cast', [tokens], { to: { i: DataType.INT64 } });
    const [x0] = g.node('Gather', [g.floats('emb', [V, E], emb), ids!]);
    const [x1] = g.node('Unsqueeze', [x0!, g.ints('axes', [0])]);
    const [x2] = g.node('Squeeze', [x1!, g.ints('axes', [0])]);
    const [bt] = g.node('Transpose', [x2!], { perm: { ints: [1, 0, 2] } });
    const [x] = g.node('Transpose', [bt!], { perm: { ints: [1, 0, 2] } });
    const bias = new Float32Array(8 * H);
    bias.set(w.Wb);
    const [y] = g.node(
      'LSTM',
      [x!, g.floats('W', [1, 4 * H, E], w.W), g.floats('R', [1, 4 * H, H], w.R), g.floats('B', [1, 8 * H], bias)],
      { hidden_size: { i: H } },
    );
    const [flat] = g.node('Reshape', [y!, g.ints('shape', [-1, H])]);
    g.node('Gemm', [flat!, g.floats('Wh', [V, H], headW), g.floats('bh', [V], headB)], { transB: { i: 1 } }, [
      'logits',
    ]);
    g.output('logits', ['TB', V]);
    const bytes = g.encode('plumbing');
    const r = fromOnnx(bytes, { vocab: [...'abcdefg'] });
    if (r.kind !== 'char-model') throw new Error(`expected a char model, got ${r.kind}`);
    expect(r.info.inputs).toEqual({ data: 'tokens', h0: null, c0: null });
    const T = 6;
    const B = 2;
    const toks = Int32Array.from({ length: T * B }, (_, i) => (i * 3) % V);
    const session = await ortSession(bytes);
    const feeds = { tokens: new Tensor('int32', toks, [T, B]) };
    const out = (await session.run(feeds)).logits!.data as Float32Array;
    expect(maxAbsDiff(r.model.logits(toks, T, B, r.model.createState(B)), out)).toBeLessThan(TOL);
  });

  it('layout = 1 (batch-major X and Y) imports the same weights as layout 0', () => {
    const stack = new RnnStack({ kind: 'gru', inputSize: 3, hiddenSize: 4, seed: 5 });
    const w = onnxWeightsOf('gru', 'reset-after', 3, 4, stack.params);
    const g = new OnnxGraphBuilder();
    const x = g.input('x', ['B', 'T', 3]);
    const B = new Float32Array(24);
    B.set(w.Wb);
    B.set(w.Rb, 12);
    const [y] = g.node(
      'GRU',
      [x, g.floats('W', [1, 12, 3], w.W), g.floats('R', [1, 12, 4], w.R), g.floats('B', [1, 24], B)],
      { hidden_size: { i: 4 }, layout: { i: 1 }, linear_before_reset: { i: 1 } },
    );
    g.node('Squeeze', [y!, g.ints('axes', [2])], {}, ['output']);
    g.output('output', ['B', 'T', 4]);
    const r = fromOnnx(g.encode('layout1'));
    if (r.kind !== 'stack') throw new Error(`expected a stack, got ${r.kind}`);
    expect(Array.from(r.stack.params)).toEqual(Array.from(stack.params));
    // Squeezing the batch axis instead of the direction axis is refused.
    const bad = new OnnxGraphBuilder();
    const xb = bad.input('x', ['B', 'T', 3]);
    const [yb] = bad.node('GRU', [xb, bad.floats('W', [1, 12, 3], w.W), bad.floats('R', [1, 12, 4], w.R)], {
      hidden_size: { i: 4 },
      layout: { i: 1 },
    });
    bad.node('Squeeze', [yb!, bad.ints('axes', [0])], {}, ['output']);
    bad.output('output', ['T', 1, 4]);
    expect(() => fromOnnx(bad.encode('bad'))).toThrow(/Squeeze\) squeezes axis 0 \[x\[0\]\], which is not of size 1/);
  });
});
