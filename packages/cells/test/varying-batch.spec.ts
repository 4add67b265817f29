// Streaming steps whose batch B changes from call to call (what a micro-batcher does): Cell.step,
// RnnStack.step and CharModel.step over B that grows, shrinks and repeats give bit for bit what a
// fresh object (its own buffers cut for exactly that B) gives, and each row agrees with a lone
// batch-1 step (varying-batch-alloc.spec.ts: no allocation once warm). Plus the
// TokenSampler, the sampling rule of sample()/generate() driven by the caller's Rng.

import { getBackend, Rng, setBackend } from '@rxrnn/kernels';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CellKind,
  CharModel,
  createCell,
  type GruVariant,
  resolveSampling,
  sample,
  TokenSampler,
} from '../src/index.js';
import { testValues } from './f64-oracle.js';

const initial = getBackend();
afterAll(() => setBackend(initial));

const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.slice().buffer));
/** Batch sizes that grow, shrink, repeat and include 1 (the fused path where there is one). */
const SIZES = [3, 5, 2, 8, 1, 7, 8, 3, 1, 6];

const KINDS: [CellKind, GruVariant][] = [
  ['lstm', 'reset-after'],
  ['gru', 'reset-after'],
  ['gru', 'reset-before'],
  ['rnn', 'reset-after'],
];

describe.each(['wasm', 'js'] as const)('steps with a varying batch, %s backend', (backend) => {
  it.each(KINDS)('%s (%s) Cell.step equals a fresh cell at every B, bit for bit', (kind, gruVariant) => {
    setBackend(backend);
    const cfg = { kind, gruVariant, inputSize: 5, hiddenSize: 9, seed: 2 };
    const cell = createCell(cfg);
    cell.params.set(testValues(cell.paramCount(), 3, 0.5));
    SIZES.forEach((B, t) => {
      const state = Float32Array.from(testValues(B * cell.stateSize, 10 + t, 0.8));
      const x = Float32Array.from(testValues(B * 5, 40 + t, 1));
      const fresh = createCell(cfg);
      fresh.params.set(cell.params);
      const want = state.slice();
      fresh.step(want, x, B);
      const h = cell.step(state, x, B);
      expect(bits(state), `step ${t}, B ${B}`).toEqual(bits(want));
      expect(bits(h)).toEqual(bits(want.subarray(0, B * 9)));
    });
  });

  it('a 2-layer CharModel: each row of a varying-B step is the lone batch-1 step of that row', () => {
    setBackend(backend);
    const model = new CharModel({ cell: 'lstm', vocab: [...'abcdefg'], hidden: 12, layers: 2, embeddingDim: 4 });
    model.params.set(testValues(model.paramCount(), 5, 0.4));
    const S = model.stateSize;
    // Eight streams; each step takes a different subset of them as its rows.
    const lone = Array.from({ length: 8 }, () => model.createState(1));
    const kept = Array.from({ length: 8 }, () => model.createState(1));
    let worst = 0;
    SIZES.forEach((B, t) => {
      const rows = Array.from({ length: B }, (_, b) => (b * 3 + t) % 8);
      const tokens = Int32Array.from(rows, (r) => (r + t) % 7);
      // Gather the rows' states into the B-row layout [segment j: B × H], step, scatter back.
      const H = 12;
      const state = model.createState(B);
      rows.forEach((r, b) => {
        for (let j = 0; j < S / H; j++) state.set(kept[r]!.subarray(j * H, (j + 1) * H), j * B * H + b * H);
      });
      const logits = model.step(tokens, state).slice();
      rows.forEach((r, b) => {
        for (let j = 0; j < S / H; j++) kept[r]!.set(state.subarray(j * B * H + b * H, j * B * H + (b + 1) * H), j * H);
        const want = model.step(Int32Array.of(tokens[b]!), lone[r]!);
        for (let v = 0; v < 7; v++) worst = Math.max(worst, Math.abs(logits[b * 7 + v]! - want[v]!));
        for (let i = 0; i < S; i++) worst = Math.max(worst, Math.abs(kept[r]![i]! - lone[r]![i]!));
      });
    });
    // Batched and single-row products differ by float32 rounding only (bitwise on the js backend).
    if (backend === 'js') expect(worst).toBe(0);
    else expect(worst).toBeLessThanOrEqual(1e-5);
  });
});

describe('TokenSampler', () => {
  const V = 9;
  const logitRows = Array.from({ length: 40 }, (_, t) => Float32Array.from(testValues(V, 60 + t, 2)));

  it.each([
    [{ temperature: 1 }],
    [{ temperature: 0.7, topK: 4 }],
    [{ temperature: 1.3, topP: 0.8 }],
    [{ topK: 5, topP: 0.9, temperature: 0.5 }],
  ])('draws what sample() draws with the same seed and options %j', async (options) => {
    const want = await lastValueFrom(from(logitRows).pipe(sample({ ...options, seed: 17 }), toArray()));
    const sampler = new TokenSampler(V);
    const resolved = resolveSampling('test', options);
    const rng = new Rng(17);
    // Rows read from a larger [rows × V] buffer, as a batched step hands them out.
    const all = new Float32Array(logitRows.length * V);
    logitRows.forEach((row, t) => all.set(row, t * V));
    expect(logitRows.map((_, t) => sampler.draw(all, t, rng, resolved))).toEqual(want);
  });

  it('follows the softmax at the temperature (float64 oracle, 5 standard deviations)', () => {
    const logits = Float32Array.of(0.5, -1, 2, 0, 1.5, -0.5, 0.25, 1, -2);
    const T = 0.8;
    const m = Math.max(...logits);
    const e = Array.from(logits, (v) => Math.exp((v - m) / T));
    const s = e.reduce((a, b) => a + b, 0);
    const sampler = new TokenSampler(V);
    const rng = new Rng(5);
    const resolved = resolveSampling('test', { temperature: T });
    const n = 20000;
    const counts = new Array<number>(V).fill(0);
    for (let i = 0; i < n; i++) counts[sampler.draw(logits, 0, rng, resolved)]!++;
    e.forEach((ei, i) => {
      const p = ei / s;
      expect(Math.abs(counts[i]! - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)) + 1);
    });
  });

  it('refuses a vocabulary size that is not a positive integer', () => {
    expect(() => new TokenSampler(0)).toThrow(/^TokenSampler: vocabSize must be a positive integer, got 0$/);
  });
});
