// Checkpoints as the app uses them: load one into a live CharModel (+ optimizer), and build one
// from an online run (model, optimizer, counters, history) for the trainer's atomic saveCheckpoint.
// The model and optimizer are the caller's; every array put into a checkpoint is a fresh copy.
import { CharModel, type ResolvedCharModelConfig } from '@rxrnn/cells';
import { Rng } from '@rxrnn/kernels';
import {
  type Checkpoint,
  CheckpointError,
  decodeCheckpoint,
  type HistoryEntry,
  loadCheckpoint,
  type Optimizer,
  type OptimizerState,
  restoreOptimizer,
} from '@rxrnn/trainer/node';

export { CheckpointError };

/** A model rebuilt from a checkpoint, with the checkpoint it came from. */
export interface LoadedModel {
  model: CharModel;
  checkpoint: Checkpoint;
}

/**
 * Rebuilds the model a checkpoint describes and copies its parameters in. The checkpoint has
 * been validated (decodeCheckpoint / loadCheckpoint): its config within limits and its parameter
 * count the config's, so building the model allocates no more than the file held.
 */
export function modelFromCheckpoint(ckpt: Checkpoint, path?: string): LoadedModel {
  let size: number;
  try {
    size = CharModel.layoutOf(ckpt.model).size;
  } catch (e) {
    throw new CheckpointError(`checkpoint: model config cannot be built (${(e as Error).message})`, path);
  }
  if (size !== ckpt.params.length) {
    throw new CheckpointError(`checkpoint: ${ckpt.params.length} parameters, the model it describes has ${size}`, path);
  }
  return { model: new CharModel(ckpt.model, ckpt.params), checkpoint: ckpt };
}

/** Loads and validates a checkpoint file (CheckpointError on any problem) into a live model. */
export function loadModel(path: string): LoadedModel {
  return modelFromCheckpoint(loadCheckpoint(path), path);
}

/** Same from bytes (e.g. a download from /api/checkpoint). */
export function modelFromBytes(bytes: Uint8Array): LoadedModel {
  return modelFromCheckpoint(decodeCheckpoint(bytes));
}

/** An optimizer that continues from a saved state; CheckpointError (exit 2) if it does not fit. */
export function optimizerFromState(state: OptimizerState, size: number): Optimizer {
  try {
    return restoreOptimizer(state, size);
  } catch (e) {
    throw new CheckpointError(`checkpoint: ${(e as Error).message.replace(/^restoreOptimizer: /, '')}`);
  }
}

/** Counters and record of an online run, as stored in its checkpoints. */
export interface OnlineRunRecord {
  step: number;
  tokens: number;
  seconds: number;
  history: HistoryEntry[];
  /** Plain-data training settings (bptt, lr, clipping, source...). */
  training: Record<string, unknown>;
  /** Seed for the checkpoint's RNG words (online training draws no random numbers). */
  seed: number;
}

/**
 * A trainer-format checkpoint of an online run. Online training carries its own hidden state
 * inside trainOnline's session, so the stored stream state is zeros: a resumed run restarts its
 * context, which costs a few characters of loss, not correctness.
 */
export function onlineCheckpoint(model: CharModel, optimizer: Optimizer, run: OnlineRunRecord): Checkpoint {
  const config: ResolvedCharModelConfig = model.config;
  return {
    model: { ...config, vocab: [...config.vocab] },
    params: model.params.slice(),
    training: { mode: 'online', ...run.training },
    optimizer: optimizer.getState(),
    rng: new Rng(run.seed).getState(),
    cursor: { position: 0, epoch: 0, shift: 0, state: model.createState(1) },
    counters: { step: run.step, tokens: run.tokens, seconds: run.seconds },
    history: run.history.map((h) => ({ ...h })),
    best: null,
  };
}
