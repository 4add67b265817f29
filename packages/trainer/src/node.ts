// @rxrnn/trainer/node: the Node-only half of the API (file IO and worker threads), kept out of
// the main entry so that entry bundles for browsers. Re-exports everything of the main entry too.

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

export interface TrainOfflineToFileOptions extends Omit<CoreOptions, 'createWorker'> {
  /** Write a checkpoint here (atomically) every `checkpointEvery` seconds and at the end. */
  checkpointPath?: string;
}

/** trainOffline with worker threads available (threads: 2) and atomic checkpoint files. */
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
