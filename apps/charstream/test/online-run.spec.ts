// runOnline in-process: held-out blocks never reach training, history rows and validation,
// the final checkpoint, abort, and history thinning for long runs.
import { join } from 'node:path';
import { CharModel } from '@rxrnn/cells';
import { createOptimizer, loadCheckpoint } from '@rxrnn/trainer/node';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultCorpus } from '../src/default-corpus.js';
import { runOnline, thinHistory } from '../src/online-run.js';
import { textChunks } from '../src/text-source.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function tinyModel(text: string): CharModel {
  return new CharModel({ cell: 'gru', hidden: 12, embeddingDim: 8, vocab: [...new Set(text)].sort(), seed: 4 });
}

describe('runOnline', () => {
  it('trains on all but every n-th block, records history and validation, saves at the end', async () => {
    const text = defaultCorpus({ seed: 9, chars: 12_000 }).slice(0, 10_240);
    const model = tinyModel(text);
    const optimizer = createOptimizer({ kind: 'adam' }, model.params.length);
    const path = join(tmp.dir, 'run.ckpt');
    const updates: number[] = [];
    const summary = await runOnline({
      model,
      optimizer,
      source: textChunks(text, { chunkChars: 100 }),
      bptt: 32,
      holdOutEvery: 4,
      blockChars: 256,
      logEvery: 5,
      checkpointPath: path,
      onUpdate: (u) => updates.push(u.smoothLoss),
    });
    expect(summary.stoppedBy).toBe('end');
    // 40 blocks of 256: 10 held out, 30 trained (each window of 33 ids overlaps the next by one).
    expect(summary.tokens).toBe(30 * 256 - 1);
    expect(summary.steps).toBe(updates.length);
    expect(summary.valLoss).toBeGreaterThan(0);
    expect(summary.history.at(-1)!.valLoss).toBe(summary.valLoss);
    expect(summary.history.every((h, i) => i === 0 || h.step > summary.history[i - 1]!.step)).toBe(true);
    const saved = loadCheckpoint(path);
    expect(saved.counters).toMatchObject({ step: summary.steps, tokens: summary.tokens });
    expect(Array.from(saved.params)).toEqual(Array.from(model.params));
    expect(saved.training).toMatchObject({ mode: 'online', bptt: 32 });
  });

  it('stops on abort with what it has', async () => {
    const text = defaultCorpus({ seed: 10, chars: 5000 });
    const model = tinyModel(text);
    const controller = new AbortController();
    let n = 0;
    const summary = await runOnline({
      model,
      optimizer: createOptimizer({ kind: 'adam' }, model.params.length),
      source: textChunks(text, { loop: true }),
      bptt: 16,
      signal: controller.signal,
      onUpdate: () => {
        if (++n === 10) controller.abort();
      },
    });
    expect(summary.stoppedBy).toBe('abort');
    expect(summary.steps).toBe(10);
  });
});

describe('thinHistory', () => {
  it('merges rows pairwise, keeping the end of each pair and the later validation', () => {
    const rows = [1, 2, 3, 4, 5].map((step) => ({ step, tokens: step * 10, seconds: step, lr: 0.1, trainLoss: step }));
    (rows[1] as { valLoss?: number }).valLoss = 9;
    thinHistory(rows);
    expect(rows).toEqual([
      { step: 2, tokens: 20, seconds: 2, lr: 0.1, trainLoss: 1.5, valLoss: 9 },
      { step: 4, tokens: 40, seconds: 4, lr: 0.1, trainLoss: 3.5 },
      { step: 5, tokens: 50, seconds: 5, lr: 0.1, trainLoss: 5 },
    ]);
  });
});
