// trainInWorker: training in a worker thread streams progress, evaluations and parameter
// snapshots, completes with a summary, and stops cleanly when unsubscribed.
import { CharModel } from '@rxrnn/cells';
import { lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type TrainWorkerEvent, trainInWorker } from '../src/node.js';

const text = 'all work and no play makes jack a dull boy. '.repeat(50);
const vocab = [...new Set(text)].sort();
const config = { cell: 'gru' as const, vocab, hidden: 16, embeddingDim: 8, seed: 2 };

describe('trainInWorker', () => {
  it('streams progress, evals and snapshots, then completes; the snapshot loads into a model', async () => {
    const events = await lastValueFrom(
      trainInWorker({
        model: config,
        text,
        batchSize: 4,
        bptt: 16,
        maxSteps: 12,
        evalEvery: 4,
        progressInterval: 0,
        snapshotInterval: 0,
        lr: 1e-2,
      }).pipe(toArray()),
    );
    const kinds = events.map((e) => e.type);
    expect(kinds.filter((k) => k === 'progress').length).toBeGreaterThanOrEqual(12);
    expect(kinds.filter((k) => k === 'eval').length).toBe(3);
    expect(kinds.at(-1)).toBe('done');
    const done = events.at(-1) as Extract<TrainWorkerEvent, { type: 'done' }>;
    expect(done.summary.steps).toBe(12);
    const snap = events.filter((e) => e.type === 'snapshot').at(-1) as Extract<TrainWorkerEvent, { type: 'snapshot' }>;
    const model = new CharModel(config);
    expect(snap.params).toBeInstanceOf(Float32Array);
    expect(snap.params.length).toBe(model.params.length);
    expect(Array.from(snap.params)).toEqual(Array.from(done.summary.checkpoint.best!.params));
  });

  it('unsubscribing stops the worker', async () => {
    const events = await lastValueFrom(
      trainInWorker({ model: config, text, batchSize: 4, bptt: 16, seconds: 60, progressInterval: 0 }).pipe(
        take(3),
        toArray(),
      ),
    );
    expect(events.length).toBe(3);
  });

  it('reports errors from the worker with their type', async () => {
    await expect(
      lastValueFrom(trainInWorker({ model: config, text: 'a dull boy', batchSize: 4, bptt: 16, maxSteps: 2 })),
    ).rejects.toThrow(/trainInWorker: .*too short/);
    expect(() => trainInWorker({ text } as never)).toThrow(/options.model/);
  });
});
