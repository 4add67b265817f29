// Resume and corruption through real files and trainOfflineToFile (the path the CLI takes): N+M
// updates straight equal N updates, save, load, M updates (bitwise); damaged files fail loudly.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharModel, Vocabulary } from '@rxrnn/cells';
import { CheckpointError, loadCheckpoint, trainOfflineToFile } from '@rxrnn/trainer/node';
import { afterAll, describe, expect, it } from 'vitest';
import { markovChain } from './markov.js';

const dir = mkdtempSync(join(tmpdir(), 'rxrnn-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = markovChain({ alphabet: 'abcdef', order: 2, seed: 3, sharpness: 2 }).sample(20_000, 4);
const vocab = Vocabulary.fromText(text).chars;
const opts = {
  batchSize: 8,
  bptt: 32,
  evalEvery: 7,
  valFraction: 0.05,
  lr: 3e-3,
  schedule: { kind: 'exponential', gamma: 0.99, warmupSteps: 5 },
} as const;
const model = (dropout = false) =>
  new CharModel({
    cell: 'lstm',
    vocab,
    hidden: 32,
    layers: 2,
    embeddingDim: 8,
    seed: 12,
    // Every dropout kind: the resumed run must continue with the same masks.
    ...(dropout
      ? { dropout: 0.2, embeddingDropout: 0.1, outputDropout: 0.2, inputDropout: 0.1, recurrentDropout: 0.1 }
      : {}),
  });

describe('resume through checkpoint files', () => {
  it.each([
    [1, false],
    [2, false],
    [1, true],
    [2, true],
  ] as const)('N+M straight == N, save, load, M (bitwise; threads %i, dropout %s)', async (threads, dropout) => {
    const N = 40;
    const M = 45; // crosses an epoch boundary (76 windows per epoch)
    const straight = await trainOfflineToFile({ model: model(dropout), text, ...opts, threads, maxSteps: N + M });
    const path = join(dir, `resume-${threads}-${dropout}.ckpt`);
    await trainOfflineToFile({ model: model(dropout), text, ...opts, threads, maxSteps: N, checkpointPath: path });
    const resumed = await trainOfflineToFile({
      text,
      resume: loadCheckpoint(path),
      maxSteps: N + M,
      checkpointPath: path,
    });
    const a = straight.checkpoint.params;
    const b = resumed.checkpoint.params;
    expect(resumed.steps).toBe(N + M);
    expect(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
    ).toBe(true);
    // The interrupted run also evaluated at step N (evaluation never changes the trajectory), so its
    // best is the minimum over a superset of the straight run's evaluations.
    expect(resumed.checkpoint.training.evalEvery).toBe(7);
    expect(resumed.bestVal!.nats).toBeLessThanOrEqual(straight.bestVal!.nats);
    const vals = (h: typeof straight.checkpoint.history) =>
      h.filter((r) => r.valLoss !== undefined && r.step !== N).map((r) => [r.step, r.valLoss]);
    expect(vals(resumed.checkpoint.history)).toEqual(vals(straight.checkpoint.history));
    expect(loadCheckpoint(path).counters.step).toBe(N + M);
  });
});

describe('damaged checkpoint files', () => {
  it('truncated, bit-flipped and foreign files throw CheckpointError; the good file stays loadable', async () => {
    const path = join(dir, 'good.ckpt');
    await trainOfflineToFile({ model: model(), text, ...opts, maxSteps: 5, checkpointPath: path });
    const good = readFileSync(path);
    const bad = (name: string, bytes: Uint8Array) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length * 0.6)]! ^= 0x10;
    for (const p of [
      bad('trunc.ckpt', good.subarray(0, good.length - 100)),
      bad('flip.ckpt', flipped),
      bad('text.ckpt', Buffer.from('hello, not a checkpoint')),
    ]) {
      expect(() => loadCheckpoint(p)).toThrow(CheckpointError);
    }
    // Resuming into a differently-shaped model is refused too.
    expect(() => loadCheckpoint(path, { model: { hidden: 64 } })).toThrow(/model hidden is 32, expected 64/);
    expect(loadCheckpoint(path).counters.step).toBe(5);
  });
});

describe('the Markov oracle', () => {
  it('gives log2|A| for uniform rows and less for peaked ones', () => {
    expect(markovChain({ alphabet: 'abcd', order: 2, seed: 1, sharpness: 0 }).entropyRate).toBeCloseTo(2, 12);
    const peaked = markovChain({ alphabet: 'abcd', order: 2, seed: 1, sharpness: 6 });
    expect(peaked.entropyRate).toBeLessThan(1.5);
    // Empirical check of the sampler: the plug-in conditional entropy of a long sample is close.
    const s = peaked.sample(200_000, 2);
    const counts = new Map<string, number[]>();
    for (let i = 2; i < s.length; i++) {
      const row = counts.get(s.slice(i - 2, i)) ?? [0, 0, 0, 0];
      row['abcd'.indexOf(s[i]!)]!++;
      counts.set(s.slice(i - 2, i), row);
    }
    let H = 0;
    for (const row of counts.values()) {
      const n = row.reduce((a, b) => a + b, 0);
      for (const c of row) if (c > 0) H -= (c / (s.length - 2)) * Math.log2(c / n);
    }
    expect(Math.abs(H - peaked.entropyRate)).toBeLessThan(0.01);
  });
});
