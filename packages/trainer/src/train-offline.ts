// trainOffline(): the reusable offline training loop (the CLI, the app's `train` and its worker
// all call it). Drives an OfflineTrainer for a step or time budget, yields to the event loop
// between updates, reports progress, evaluates, checkpoints atomically, honours an AbortSignal.
import type { Checkpoint } from './checkpoint.js';
import type { LossMetrics } from './metrics.js';
import type { TrainableModel } from './model.js';
import {
  type HalfBatchWorkerFactory,
  OfflineTrainer,
  type OfflineTrainingOptions,
  type StepReport,
} from './offline-trainer.js';

/** What onProgress receives: the last update's report plus timing. */
export interface TrainProgress extends StepReport {
  /** Seconds of training in this run (a resumed run starts at 0 here; see totalSeconds). */
  elapsed: number;
  /** Seconds left of the time budget, or null for a step budget. */
  remaining: number | null;
  /** Training seconds over every run of this checkpoint (resumes included). */
  totalSeconds: number;
  /** Training throughput of this run. */
  tokensPerSecond: number;
}

/** What onEval receives after each held-out evaluation. */
export interface EvalReport {
  /** The update the evaluation followed. */
  step: number;
  /** The held-out loss. */
  val: LossMetrics;
  /** Whether it beat the best so far (whose parameters the checkpoint keeps). */
  improved: boolean;
  /** The best held-out loss so far, nats per token. */
  best: number;
}

/** Options of trainOffline: the OfflineTrainingOptions plus the corpus, a budget and callbacks. */
export interface TrainOfflineOptions extends OfflineTrainingOptions {
  /** The model to train (its params are updated in place). Needed unless `resume` is given. */
  model?: TrainableModel;
  /** The corpus: text, or ids in the model's vocabulary. */
  text: string | Int32Array;
  /** Continue from this checkpoint (model, optimizer, data cursor, RNG, history). */
  resume?: Checkpoint;
  /** Stop after this many updates in total (counting resumed ones). */
  maxSteps?: number;
  /** Stop after this many seconds of this run. */
  seconds?: number;
  /** Abort: the loop stops after the current update, evaluates, saves and resolves normally. */
  signal?: AbortSignal;
  /** Called at most every `progressInterval` ms and after the last update. */
  onProgress?: (p: TrainProgress) => void;
  /**
   * Called after EVERY update with its report: the per-update series of the loss, the global
   * gradient norm before clipping (`gradNorm`) and whether clipping fired (`clipped`), which
   * onProgress (throttled) samples only. Synchronous and on the training path: keep it cheap.
   */
  onStep?: (report: StepReport) => void;
  /** Milliseconds between onProgress calls. Default 250. */
  progressInterval?: number;
  /** Called after every held-out evaluation. */
  onEval?: (e: EvalReport) => void;
  /** Receives a checkpoint every `checkpointEvery` seconds and at the end (the Node entry's
   * trainOffline writes it to `checkpointPath` atomically). */
  onCheckpoint?: (ckpt: Checkpoint) => void;
  /** Seconds between periodic checkpoints. Default 60. */
  checkpointEvery?: number;
  /** Worker factory for threads 2 (the Node entry passes createHalfBatchWorker). */
  createWorker?: HalfBatchWorkerFactory;
  /** Called once the trainer exists and before the first update (e.g. to adjust the schedule). */
  onStart?: (trainer: OfflineTrainer) => void;
}

/** What trainOffline resolves with. */
export interface TrainSummary {
  /** Updates in total (resumed ones included). */
  steps: number;
  /** Training tokens in total. */
  tokens: number;
  /** Seconds of training in this run. */
  seconds: number;
  /** Training throughput of this run. */
  tokensPerSecond: number;
  /** Mean train loss over the last history row (nats, bits and perplexity per token). */
  train: {
    /** Nats per token. */
    nats: number;
    /** Bits per character. */
    bpc: number;
    /** e^nats. */
    perplexity: number;
  } | null;
  /** Validation loss of the best parameters (the held-out tail), or null without a split. */
  bestVal: {
    /** Nats per token. */
    nats: number;
    /** Bits per character. */
    bpc: number;
    /** e^nats. */
    perplexity: number;
    /** The update it was measured after. */
    step: number;
  } | null;
  /** Which budget ended the run: maxSteps, seconds, or the abort signal. */
  stoppedBy: 'steps' | 'time' | 'abort';
  /** The final checkpoint (the best parameters in checkpoint.best). */
  checkpoint: Checkpoint;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains a char model offline on a corpus for a step or time budget: an OfflineTrainer (B streams
 * of truncated BPTT, T tokens per window, clipping, the optimizer and schedule of `opts`), with a
 * held-out evaluation every `evalEvery` updates, progress callbacks, a checkpoint every
 * `checkpointEvery` seconds and at the end (to `onCheckpoint`), and an AbortSignal. It yields to
 * the event loop between updates. Defaults: batchSize 32, bptt 64, Adam, lr 2e-3, maxGradNorm 5,
 * valFraction 0.05, evalEvery 200, seed 1, threads 1. In Node, trainOfflineToFile from
 * '@rxrnn/trainer/node' adds checkpoint files and threads 2.
 *
 * @throws (rejects) RangeError without maxSteps, seconds or signal, and RangeError/TypeError for a
 *   bad option; CheckpointError for a checkpoint to resume that does not fit
 * @example
 * ```ts
 * import { CharModel, Vocabulary } from '@rxrnn/cells';
 * import { trainOffline } from '@rxrnn/trainer';
 * const text = 'the cat sat on the mat. '.repeat(40);
 * const model = new CharModel({ cell: 'lstm', vocab: Vocabulary.fromText(text).chars, hidden: 16, seed: 1 });
 * const summary = await trainOffline({ model, text, maxSteps: 20, batchSize: 4, bptt: 16, evalEvery: 10 });
 * console.log(summary.steps, summary.bestVal?.nats); // 20, the held-out loss of the best parameters
 * const resumed = await trainOffline({ text, resume: summary.checkpoint, maxSteps: 30 }); // 10 more, exactly
 * ```
 */
export async function trainOffline(opts: TrainOfflineOptions): Promise<TrainSummary> {
  const { text, resume, maxSteps, seconds, signal, onProgress, onStep, onEval, onCheckpoint, onStart, createWorker } =
    opts;
  if (onStep !== undefined && typeof onStep !== 'function')
    throw new TypeError(`trainOffline: onStep must be a function, got ${typeof onStep}`);
  const progressInterval = opts.progressInterval ?? 250;
  const checkpointEvery = opts.checkpointEvery ?? 60;
  if (maxSteps === undefined && seconds === undefined && !signal)
    throw new RangeError('trainOffline: give maxSteps, seconds or a signal, or it never stops');
  if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= 0))
    throw new RangeError(`trainOffline: maxSteps must be an integer >= 0, got ${maxSteps}`);
  if (seconds !== undefined && !(seconds >= 0))
    throw new RangeError(`trainOffline: seconds must be >= 0, got ${seconds}`);

  let trainer: OfflineTrainer;
  if (resume) {
    // Only overrides that were given: an undefined one must not mask the checkpoint's setting.
    const override: { evalEvery?: number; logEvery?: number } = {};
    if (opts.evalEvery !== undefined) override.evalEvery = opts.evalEvery;
    if (opts.logEvery !== undefined) override.logEvery = opts.logEvery;
    trainer = await OfflineTrainer.resume(resume, text, override, createWorker);
  } else {
    if (!opts.model) throw new TypeError('trainOffline: pass a model (or resume from a checkpoint)');
    trainer = await OfflineTrainer.create(opts.model, text, opts, createWorker);
  }
  const hasVal = trainer.val.length >= 2;
  const evalEvery = trainer.options.evalEvery;
  const start = performance.now();
  const startTokens = trainer.tokens;
  let lastProgress = -Infinity;
  let lastSave = start;
  let stoppedBy: TrainSummary['stoppedBy'] = 'steps';
  let lastEvalStep = -1;

  const evaluate = () => {
    const { val, improved } = trainer.evaluateAndRecord();
    lastEvalStep = trainer.step;
    onEval?.({ step: trainer.step, val, improved, best: trainer.best!.valLoss });
  };
  const save = () => {
    if (onCheckpoint) onCheckpoint(trainer.toCheckpoint());
    lastSave = performance.now();
  };

  try {
    onStart?.(trainer);
    let report: StepReport | null = null;
    for (;;) {
      const elapsed = (performance.now() - start) / 1000;
      if (signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      if (maxSteps !== undefined && trainer.step >= maxSteps) break;
      if (seconds !== undefined && elapsed >= seconds) {
        stoppedBy = 'time';
        break;
      }
      const t0 = performance.now();
      report = trainer.trainStep();
      trainer.seconds += (performance.now() - t0) / 1000;
      onStep?.(report);
      if (hasVal && evalEvery > 0 && trainer.step % evalEvery === 0) evaluate();
      const now = performance.now();
      if (onProgress && now - lastProgress >= progressInterval) {
        lastProgress = now;
        onProgress(progress(report, start, startTokens, seconds, trainer));
      }
      if (onCheckpoint && (now - lastSave) / 1000 >= checkpointEvery) save();
      // Let timers, I/O and signals (SIGINT, abort) in between updates.
      await tick();
    }
    if (hasVal && lastEvalStep !== trainer.step && trainer.step > 0) evaluate();
    if (report && onProgress) onProgress(progress(report, start, startTokens, seconds, trainer));
    save();
  } finally {
    await trainer.close();
  }
  const runSeconds = (performance.now() - start) / 1000;
  const lastRow = trainer.history.filter((h) => h.trainLoss !== undefined).at(-1);
  const best = trainer.best;
  return {
    steps: trainer.step,
    tokens: trainer.tokens,
    seconds: runSeconds,
    tokensPerSecond: (trainer.tokens - startTokens) / Math.max(runSeconds, 1e-9),
    train: lastRow?.trainLoss !== undefined ? metricsOf(lastRow.trainLoss) : null,
    bestVal: best ? { ...metricsOf(best.valLoss), step: best.step } : null,
    stoppedBy,
    checkpoint: trainer.toCheckpoint(),
  };
}

function metricsOf(nats: number): { nats: number; bpc: number; perplexity: number } {
  return { nats, bpc: nats / Math.LN2, perplexity: Math.exp(nats) };
}

function progress(
  r: StepReport,
  start: number,
  startTokens: number,
  budget: number | undefined,
  tr: OfflineTrainer,
): TrainProgress {
  const elapsed = (performance.now() - start) / 1000;
  return {
    ...r,
    elapsed,
    remaining: budget === undefined ? null : Math.max(0, budget - elapsed),
    totalSeconds: tr.seconds,
    tokensPerSecond: (tr.tokens - startTokens) / Math.max(elapsed, 1e-9),
  };
}
