// @rxrnn/trainer/node: the Node-only half of the API (file IO and worker threads), kept out of
// the main entry so that entry bundles for browsers. Re-exports everything of the main entry too.

/**
 * Everything of @rxrnn/trainer, plus what needs Node: checkpoint files (saveCheckpoint,
 * loadCheckpoint, trainOfflineToFile), the half-batch worker thread (threads: 2) and
 * trainInWorker.
 *
 * @module @rxrnn/trainer/node
 */

import type { Checkpoint } from './checkpoint.js';
import { saveCheckpoint } from './checkpoint-file.js';
import type { TrainableModel } from './model.js';
import { OfflineTrainer, type OfflineTrainingOptions } from './offline-trainer.js';
import { createHalfBatchWorker } from './parallel/half-batch-worker.js';
import {
  type TrainOfflineOptions as CoreOptions,
  type TrainSummary,
  trainOffline as trainOfflineCore,
} from './train-offline.js';

export { type CheckpointIo, loadCheckpoint, saveCheckpoint } from './checkpoint-file.js';
export * from './index.js';
export { createHalfBatchWorker } from './parallel/half-batch-worker.js';
export {
  type TrainInWorkerOptions,
  type TrainWorkerEvent,
  trainInWorker,
  type WorkerDoneEvent,
  type WorkerEvalEvent,
  type WorkerProgressEvent,
  type WorkerSnapshotEvent,
} from './parallel/train-in-worker.js';

/** Options of trainOfflineToFile: trainOffline's, plus `checkpointPath`, and threads 2 works. */
export interface TrainOfflineToFileOptions extends Omit<CoreOptions, 'createWorker'> {
  /** Write a checkpoint here (atomically) every `checkpointEvery` seconds and at the end. */
  checkpointPath?: string;
}

/**
 * trainOffline (see there) in Node: the checkpoints go to the file `checkpointPath` (written
 * atomically every `checkpointEvery` seconds and at the end; onCheckpoint still sees them), and
 * threads: 2 computes half the batch's gradients in a worker thread. Without checkpointPath
 * nothing is written.
 *
 * @throws (rejects) as trainOffline; errors of writing the file
 * @example
 * ```ts
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { CharModel, Vocabulary } from '@rxrnn/cells';
 * import { loadCheckpoint, trainOfflineToFile } from '@rxrnn/trainer/node';
 * const text = 'the cat sat on the mat. '.repeat(40);
 * const model = new CharModel({ cell: 'gru', vocab: Vocabulary.fromText(text).chars, hidden: 16, seed: 1 });
 * const dir = mkdtempSync(join(tmpdir(), 'rxrnn-'));
 * const path = join(dir, 'model.ckpt');
 * await trainOfflineToFile({ model, text, maxSteps: 10, batchSize: 4, bptt: 16, checkpointPath: path });
 * await trainOfflineToFile({ text, resume: loadCheckpoint(path), maxSteps: 20, checkpointPath: path });
 * rmSync(dir, { recursive: true });
 * ```
 */
export function trainOfflineToFile(opts: TrainOfflineToFileOptions): Promise<TrainSummary> {
  const { checkpointPath, onCheckpoint } = opts;
  return trainOfflineCore({
    ...opts,
    createWorker: createHalfBatchWorker,
    onCheckpoint: checkpointPath
      ? (ckpt: Checkpoint) => {
          saveCheckpoint(checkpointPath, ckpt);
          onCheckpoint?.(ckpt);
        }
      : onCheckpoint,
  });
}

/** OfflineTrainer.create with the half-batch worker for threads 2. Call close() when done. */
export function createOfflineTrainer(
  model: TrainableModel,
  corpus: string | Int32Array,
  options: OfflineTrainingOptions = {},
): Promise<OfflineTrainer> {
  return OfflineTrainer.create(model, corpus, options, createHalfBatchWorker);
}

/** OfflineTrainer.resume with the half-batch worker a threads-2 checkpoint needs. */
export function resumeOfflineTrainer(
  ckpt: Checkpoint,
  corpus: string | Int32Array,
  override: Pick<OfflineTrainingOptions, 'evalEvery' | 'logEvery'> = {},
): Promise<OfflineTrainer> {
  return OfflineTrainer.resume(ckpt, corpus, override, createHalfBatchWorker);
}
