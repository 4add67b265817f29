// @rxrnn/trainer public API (browser-safe): metrics, optimizers, schedules, checkpoint bytes,
// truncated BPTT (offline batched and online operators), PyTorch export. Files and worker
// threads live in the Node entry, '@rxrnn/trainer/node' (node.ts).
export { lossMetrics, natsToBits, bitsToNats, LossMeter, type LossMetrics } from './metrics.js';
export type { Optimizer, OptimizerKind, OptimizerState } from './optim/optimizer.js';
export { Sgd, type SgdOptions } from './optim/sgd.js';
export { Adam, type AdamOptions } from './optim/adam.js';
export { Adagrad, type AdagradOptions } from './optim/adagrad.js';
export { Rmsprop, type RmspropOptions } from './optim/rmsprop.js';
export { createOptimizer, type OptimizerConfig } from './optim/create-optimizer.js';
export { learningRate, validateSchedule, type LrSchedule, type DecaySchedule } from './optim/schedule.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CheckpointError,
  encodeCheckpoint,
  decodeCheckpoint,
  type Checkpoint,
  type CheckpointExpectations,
  type HistoryEntry,
} from './checkpoint.js';
export { encodeText, splitCorpus, StreamBatcher, type BatchCursor } from './corpus.js';
export { createCharModel, type TrainableModel, type CharModelConfig } from './model.js';
export {
  OfflineTrainer,
  resolveOfflineOptions,
  type HalfBatchWorkerFactory,
  type OfflineTrainingOptions,
  type ResolvedOfflineOptions,
  type StepReport,
} from './offline-trainer.js';
export { trainOffline, type TrainOfflineOptions, type TrainProgress, type TrainSummary, type EvalReport } from './train-offline.js';
export type { HalfBatchWorker } from './parallel/half-batch-worker.js';
export { trainOnline, type OnlineInput, type OnlineOptions, type OnlineTrainEvent } from './operators/train-online.js';
export { scoreOnline, type ScoreOptions, type ScoreEvent } from './operators/score-online.js';
export { exportTorch, type TorchExport, type ExportOptions } from './export-torch.js';
