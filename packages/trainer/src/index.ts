// @rxrnn/trainer public API: metrics, optimizers, schedules, checkpoints, truncated BPTT
// (offline batched and online operators), PyTorch export.
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
  saveCheckpoint,
  loadCheckpoint,
  type Checkpoint,
  type CheckpointExpectations,
  type CheckpointIo,
  type HistoryEntry,
} from './checkpoint.js';
