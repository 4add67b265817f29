// Offline truncated BPTT: determinism, exact resume through an encoded checkpoint (one thread
// and two), the held-out split, and refusals of mismatched checkpoints.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharModel, Vocabulary } from '@rxrnn/cells';
import { Rng } from '@rxrnn/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  createOfflineTrainer,
  decodeCheckpoint,
  dropoutSeed,
  encodeCheckpoint,
  loadCheckpoint,
  OfflineTrainer,
  type OfflineTrainingOptions,
  resumeOfflineTrainer,
  StreamBatcher,
  trainOfflineToFile,
} from '../src/node.js';

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(60);
const vocab = Vocabulary.fromText(text).chars;
const makeModel = (cell: 'lstm' | 'gru' | 'rnn' = 'lstm') =>
  new CharModel({ cell, vocab, hidden: 16, embeddingDim: 8, layers: 2, seed: 3 });
const opts: OfflineTrainingOptions = { batchSize: 4, bptt: 16, evalEvery: 5, logEvery: 2, valFraction: 0.1, seed: 9 };
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const dir = mkdtempSync(join(tmpdir(), 'rxrnn-offline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(trainer: OfflineTrainer, steps: number) {
  for (let i = 0; i < steps; i++) {
    trainer.trainStep();
    if (trainer.step % trainer.options.evalEvery === 0) trainer.evaluateAndRecord();
  }
}

describe('OfflineTrainer', () => {
  it('starts near ln(V) and lowers the training loss', async () => {
    const tr = await createOfflineTrainer(makeModel(), text, { ...opts, lr: 1e-2 });
    const first = tr.trainStep();
    expect(Math.abs(first.loss.nats - Math.log(vocab.length))).toBeLessThan(0.1);
    for (let i = 0; i < 60; i++) tr.trainStep();
    expect(tr.trainStep().loss.nats).toBeLessThan(first.loss.nats - 0.5);
    expect(tr.epoch).toBeGreaterThan(0); // the corpus wrapped at least once
  });

  it('a fixed seed gives the same run', async () => {
    const a = await createOfflineTrainer(makeModel(), text, opts);
    const b = await createOfflineTrainer(makeModel(), text, opts);
    await run(a, 12);
    await run(b, 12);
    expect(bits(a.model.params).equals(bits(b.model.params))).toBe(true);
  });

  for (const threads of [1, 2] as const) {
    it(`resume is bitwise exact across an epoch boundary (threads ${threads})`, async () => {
      const N = 9;
      const M = 14;
      const straight = await createOfflineTrainer(makeModel('gru'), text, { ...opts, threads });
      await run(straight, N + M);
      await straight.close();

      const first = await createOfflineTrainer(makeModel('gru'), text, { ...opts, threads });
      await run(first, N);
      const bytes = encodeCheckpoint(first.toCheckpoint());
      await first.close();
      const resumed = await resumeOfflineTrainer(decodeCheckpoint(bytes), text);
      await run(resumed, M);
      await resumed.close();
      expect(resumed.step).toBe(N + M);
      expect(bits(resumed.model.params).equals(bits(straight.model.params))).toBe(true);
      // History rows carry wall-clock seconds; everything else must match.
      const noTime = (h: typeof straight.history) => h.map(({ seconds: _s, ...rest }) => rest);
      expect(noTime(resumed.history)).toEqual(noTime(straight.history));
      expect(resumed.best?.valLoss).toBe(straight.best?.valLoss);
    });
  }

  it('two threads compute the same update as one (up to float summation order)', async () => {
    const one = await createOfflineTrainer(makeModel(), text, opts);
    const two = await createOfflineTrainer(makeModel(), text, { ...opts, threads: 2 });
    const r1 = one.trainStep();
    const r2 = two.trainStep();
    await two.close();
    expect(r2.loss.nats).toBeCloseTo(r1.loss.nats, 5);
    expect(r2.gradNorm).toBeCloseTo(r1.gradNorm, 4);
    let maxDiff = 0;
    for (let i = 0; i < one.model.params.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(one.model.params[i]! - two.model.params[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('refuses a checkpoint of another model or other batch settings', async () => {
    const tr = await createOfflineTrainer(makeModel(), text, opts);
    tr.trainStep();
    const ckpt = tr.toCheckpoint();
    const other = await createOfflineTrainer(
      new CharModel({ cell: 'lstm', vocab, hidden: 12, embeddingDim: 8, layers: 2, seed: 3 }),
      text,
      opts,
    );
    expect(() => other.restore(ckpt)).toThrow(CheckpointError);
    const otherBatch = await createOfflineTrainer(makeModel(), text, { ...opts, batchSize: 2 });
    expect(() => otherBatch.restore(ckpt)).toThrow(/training.batchSize is 4, this trainer uses 2/);
  });

  it('refuses an update with a non-finite loss or gradient and leaves the parameters alone', async () => {
    const model = makeModel();
    const tr = await createOfflineTrainer(model, text, opts);
    tr.trainStep();
    model.params[model.params.length - 1] = Infinity; // a linear-layer bias: logits become non-finite
    const before = model.params.slice();
    const opt = tr.optimizer.getState();
    expect(() => tr.trainStep()).toThrow(
      /trainer: non-finite (loss|gradient norm) at step 1; parameters left unchanged/,
    );
    expect(Array.from(model.params)).toEqual(Array.from(before));
    expect(tr.optimizer.getState()).toEqual(opt);
  });

  it('refuses to resume a checkpoint whose training fields are hostile, before building anything', async () => {
    const tr = await createOfflineTrainer(makeModel(), text, opts);
    tr.trainStep();
    const good = tr.toCheckpoint();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ batchSize: 2_000_000_001 }, /training.batchSize must be an integer in \[1, 65536\], got 2000000001/],
      [{ bptt: 0.5 }, /training.bptt must be an integer in \[1, 65536\], got 0.5/],
      [{ valFraction: 1 }, /training.valFraction must be a number in \[0, 1\), got 1/],
      [{ schedule: { kind: 'cosine', totalSteps: -1 } }, /training.schedule: schedule 'cosine': totalSteps/],
      [{ optimizer: { kind: 'sgd' } }, /optimizer state \(adam .*\) was not made by training.optimizer \(sgd/],
      [{ optimizer: { kind: 'adam', beta1: 2 } }, /training.optimizer: adam: beta1 must be in \[0, 1\), got 2/],
      [
        { batchSize: 3 },
        /cursor.state length 256, expected training.batchSize × the model's state size = 3 × 64 = 192/,
      ],
      [{ extra: 1 }, /training.extra is not an offline training option/],
      [{ mode: 'online' }, /training.mode is "online": written by another kind of run/],
    ];
    for (const [change, message] of cases) {
      const bad = { ...good, training: { ...good.training, ...change } };
      expect(() => OfflineTrainer.fromCheckpoint(bad, text), JSON.stringify(change)).toThrow(CheckpointError);
      expect(() => OfflineTrainer.fromCheckpoint(bad, text), JSON.stringify(change)).toThrow(message);
    }
    const { seed: _, ...noSeed } = good.training;
    expect(() => OfflineTrainer.fromCheckpoint({ ...good, training: noSeed }, text)).toThrow(/training.seed missing/);
  });

  it('says what to do when the text has a character the checkpoint cannot know, or does not fit its cursor', async () => {
    const tr = await createOfflineTrainer(makeModel(), text, opts);
    for (let i = 0; i < 3; i++) tr.trainStep();
    const ckpt = decodeCheckpoint(encodeCheckpoint(tr.toCheckpoint()));
    const withNew = `${text.slice(0, 500)}é${text.slice(500)}`;
    expect(() => OfflineTrainer.fromCheckpoint(ckpt, withNew)).toThrow(
      /the text has "é" at character 500, which is not in the checkpoint's vocabulary of \d+ characters; a model's vocabulary is fixed when it is created/,
    );
    // A shorter text of the same characters: its epoch has fewer windows than the cursor needs.
    const late = { ...ckpt, cursor: { ...ckpt.cursor, position: 30 } };
    expect(() => OfflineTrainer.fromCheckpoint(late, text.slice(0, 1200))).toThrow(
      /cursor \(position 30, shift \d+\) does not fit this text \(.*\): resume with the text the checkpoint was trained on/,
    );
  });

  it('rejects bad options and corpora with clear errors', () => {
    expect(() => new OfflineTrainer(makeModel(), text, { batchSize: 0 })).toThrow(
      /batchSize must be an integer in \[1, 65536\], got 0/,
    );
    expect(() => new OfflineTrainer(makeModel(), 'the fox', opts)).toThrow(/too short/);
    expect(() => new OfflineTrainer(makeModel(), `${text}Z`, opts)).toThrow(/char "Z" at position/);
    expect(() => new OfflineTrainer(makeModel(), text, { ...opts, maxGradNorm: -1 })).toThrow(/maxGradNorm/);
  });
});

describe('OfflineTrainer with dropout', () => {
  const DROP = { dropout: 0.3, embeddingDropout: 0.2, outputDropout: 0.25, inputDropout: 0.1, recurrentDropout: 0.2 };
  const dropModel = (cell: 'lstm' | 'gru' = 'lstm') =>
    new CharModel({ cell, vocab, hidden: 16, embeddingDim: 8, layers: 2, seed: 3, ...DROP });

  it('update s draws the masks of dropoutSeed(seed, s) for every row', async () => {
    const tr = await createOfflineTrainer(dropModel(), text, opts);
    tr.trainStep();
    // Replay update 1 by hand from the checkpoint: the same window and draw give the same loss.
    const ckpt = tr.toCheckpoint();
    const { batchSize: B, bptt: T } = tr.options;
    const batcher = new StreamBatcher(tr.train, B, T, new Rng(0));
    batcher.setCursor(ckpt.cursor);
    const inputs = new Int32Array(T * B);
    const targets = new Int32Array(T * B);
    batcher.fill(inputs, targets, 0, B);
    const replay = (seed: number) => {
      const twin = dropModel();
      twin.params.set(ckpt.params);
      return twin.lossAndGrad(inputs, targets, T, B, ckpt.cursor.state.slice(), { seed });
    };
    const want = replay(dropoutSeed(9, 1));
    const other = replay(dropoutSeed(9, 2));
    expect(tr.trainStep().loss.nats).toBe(want.lossSum / want.count);
    expect(Math.abs(other.lossSum - want.lossSum)).toBeGreaterThan(1e-3);
  });

  for (const threads of [1, 2] as const) {
    it(`resume is bitwise exact, masks included (threads ${threads})`, async () => {
      const N = 9;
      const M = 14;
      const straight = await createOfflineTrainer(dropModel('gru'), text, { ...opts, threads });
      await run(straight, N + M);
      await straight.close();
      const first = await createOfflineTrainer(dropModel('gru'), text, { ...opts, threads });
      await run(first, N);
      const bytes = encodeCheckpoint(first.toCheckpoint());
      await first.close();
      const ckpt = decodeCheckpoint(bytes);
      expect(ckpt.model).toMatchObject(DROP);
      const resumed = await resumeOfflineTrainer(ckpt, text);
      await run(resumed, M);
      await resumed.close();
      expect(bits(resumed.model.params).equals(bits(straight.model.params))).toBe(true);
      // And the masks matter: the same run without dropout ends elsewhere.
      const plain = await createOfflineTrainer(makeModel('gru'), text, { ...opts, threads });
      await run(plain, N + M);
      await plain.close();
      expect(bits(plain.model.params).equals(bits(straight.model.params))).toBe(false);
    });
  }

  it('two threads draw the masks of one (the same update up to float summation order)', async () => {
    const one = await createOfflineTrainer(dropModel(), text, opts);
    const two = await createOfflineTrainer(dropModel(), text, { ...opts, threads: 2 });
    const r1 = one.trainStep();
    const r2 = two.trainStep();
    await two.close();
    expect(r2.loss.nats).toBeCloseTo(r1.loss.nats, 5);
    let maxDiff = 0;
    for (let i = 0; i < one.model.params.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(one.model.params[i]! - two.model.params[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('validates without dropout: the held-out loss is that of the same weights with every rate 0', async () => {
    const tr = await createOfflineTrainer(dropModel(), text, opts);
    await run(tr, 6);
    const { val } = tr.evaluateAndRecord();
    // The twin: the same weights in a model built without dropout, evaluated by its own trainer.
    const twin = makeModel();
    twin.params.set(tr.model.params);
    const plain = await createOfflineTrainer(twin, text, opts);
    expect(plain.evaluate().nats).toBe(val.nats);
    // Evaluating twice gives the same number: no mask is drawn, no state is carried over.
    expect(tr.evaluate().nats).toBe(val.nats);
    await plain.close();
  });

  it('a checkpoint written before the dropout fields existed still loads and resumes exactly', async () => {
    const straight = await createOfflineTrainer(makeModel(), text, opts);
    await run(straight, 10);
    const first = await createOfflineTrainer(makeModel(), text, opts);
    await run(first, 4);
    const old = first.toCheckpoint();
    const model = old.model as unknown as Record<string, unknown>;
    for (const key of Object.keys(DROP)) delete model[key];
    const resumed = await resumeOfflineTrainer(decodeCheckpoint(encodeCheckpoint(old)), text);
    await run(resumed, 6);
    expect(bits(resumed.model.params).equals(bits(straight.model.params))).toBe(true);
  });
});

describe('trainOfflineToFile', () => {
  it('trains to a step budget, evaluates, keeps the best, saves a loadable checkpoint', async () => {
    const path = join(dir, 'run.ckpt');
    const evals: number[] = [];
    let progressCalls = 0;
    const summary = await trainOfflineToFile({
      model: makeModel(),
      text,
      ...opts,
      maxSteps: 20,
      checkpointPath: path,
      onEval: (e) => evals.push(e.val.nats),
      onProgress: () => progressCalls++,
      progressInterval: 0,
    });
    expect(summary.steps).toBe(20);
    expect(summary.stoppedBy).toBe('steps');
    expect(evals.length).toBe(4);
    expect(summary.bestVal!.nats).toBe(Math.min(...evals));
    expect(progressCalls).toBeGreaterThanOrEqual(20);
    const ckpt = loadCheckpoint(path);
    expect(ckpt.counters.step).toBe(20);
    expect(ckpt.best!.valLoss).toBe(summary.bestVal!.nats);
  });

  it('onStep reports every update: the pre-clip gradient norm and whether clipping fired', async () => {
    const model = makeModel();
    const steps: { step: number; gradNorm: number; clipped: boolean }[] = [];
    // A threshold far below the norms of an untrained model: every update is clipped.
    await trainOfflineToFile({ model, text, ...opts, maxGradNorm: 1e-3, maxSteps: 6, onStep: (r) => steps.push(r) });
    expect(steps.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const r of steps) {
      expect(r.gradNorm).toBeGreaterThan(1e-3);
      expect(r.clipped).toBe(true);
    }
    // The same run stepped by hand through OfflineTrainer reports the same series.
    const byHand = await OfflineTrainer.create(makeModel(), text, { ...opts, maxGradNorm: 1e-3 });
    for (const r of steps) {
      const h = byHand.trainStep();
      expect([h.step, h.gradNorm, h.clipped]).toEqual([r.step, r.gradNorm, r.clipped]);
    }
    await byHand.close();
    // What the last update applied: the gradient clipped to the threshold.
    let sq = 0;
    for (let i = 0; i < model.grads.length; i++) sq += model.grads[i]! ** 2;
    expect(Math.sqrt(sq)).toBeCloseTo(1e-3, 8);
    const off: boolean[] = [];
    await trainOfflineToFile({
      model: makeModel(),
      text,
      ...opts,
      maxGradNorm: 1e6,
      maxSteps: 3,
      onStep: (r) => off.push(r.clipped),
    });
    expect(off).toEqual([false, false, false]);
    await expect(
      trainOfflineToFile({ model: makeModel(), text, ...opts, maxSteps: 1, onStep: 3 as never }),
    ).rejects.toThrow('trainOffline: onStep must be a function, got number');
  });

  it('an aborted run stops after the current update and still saves', async () => {
    const ac = new AbortController();
    const path = join(dir, 'abort.ckpt');
    const summary = await trainOfflineToFile({
      model: makeModel(),
      text,
      ...opts,
      signal: ac.signal,
      checkpointPath: path,
      onProgress: (p) => p.step >= 3 && ac.abort(),
      progressInterval: 0,
    });
    expect(summary.stoppedBy).toBe('abort');
    expect(summary.steps).toBe(3);
    expect(loadCheckpoint(path).counters.step).toBe(3);
  });

  it('the browser-safe entry refuses threads 2 without a worker factory', async () => {
    await expect(OfflineTrainer.create(makeModel(), text, { ...opts, threads: 2 })).rejects.toThrow(
      /threads 2 needs a worker factory/,
    );
  });

  it('refuses to run without a budget', async () => {
    await expect(trainOfflineToFile({ model: makeModel(), text })).rejects.toThrow(/never stops/);
  });
});
