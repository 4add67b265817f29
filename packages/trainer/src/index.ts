// @rxrnn/trainer public API (browser-safe): metrics, optimizers, schedules, checkpoint bytes,
// truncated BPTT (offline batched and online operators), PyTorch export. Files and worker
// threads live in the Node entry, '@rxrnn/trainer/node' (node.ts).

/**
 * Training for @rxrnn/cells char models, browser-safe: offline truncated BPTT (trainOffline,
 * OfflineTrainer), the online operators trainOnline() and scoreOnline(), optimizers, schedules,
 * metrics, checkpoints as bytes with exact resume, and PyTorch export.
 *
 * @module @rxrnn/trainer
 */

export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_LIMITS,
  CHECKPOINT_VERSION,
  type Checkpoint,
  CheckpointError,
  type CheckpointExpectations,
  checkCheckpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  type HistoryEntry,
} from './checkpoint.js';
export { type BatchCursor, encodeText, StreamBatcher, splitCorpus } from './corpus.js';
export { type ExportOptions, exportTorch, type TorchExport } from './export-torch.js';
export { bitsToNats, LossMeter, type LossMetrics, lossMetrics, natsToBits } from './metrics.js';
export type { CharModelConfig, TrainableModel } from './model.js';
export {
  dropoutSeed,
  type HalfBatchWorkerFactory,
  MAX_BATCH,
  OfflineTrainer,
  type OfflineTrainingOptions,
  type ResolvedOfflineOptions,
  type StepReport,
} from './offline-trainer.js';
export { type ScoreEvent, type ScoreOptions, scoreOnline } from './operators/score-online.js';
export { type OnlineInput, type OnlineOptions, type OnlineTrainEvent, trainOnline } from './operators/train-online.js';
export { Adagrad, type AdagradOptions } from './optim/adagrad.js';
export { Adam, type AdamOptions } from './optim/adam.js';
export {
  createOptimizer,
  type OptimizerConfig,
  optimizerConfigOf,
  restoreOptimizer,
} from './optim/create-optimizer.js';
export type { Optimizer, OptimizerKind, OptimizerState } from './optim/optimizer.js';
export { Rmsprop, type RmspropOptions } from './optim/rmsprop.js';
export { type DecaySchedule, type LrSchedule, learningRate } from './optim/schedule.js';
export { Sgd, type SgdOptions } from './optim/sgd.js';
export type { HalfBatchWorker } from './parallel/half-batch-worker.js';
export {
  type EvalReport,
  type TrainOfflineOptions,
  type TrainProgress,
  type TrainSummary,
  trainOffline,
} from './train-offline.js';
