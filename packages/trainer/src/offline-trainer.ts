// Offline truncated BPTT over a corpus: B parallel streams, one [T×B] window per update, state
// carried (detached) across windows, clip, optimizer step; periodic held-out evaluation; exact
// checkpoint/resume. Owns the optimizer, batcher, RNG, stream states and window buffers.
import { CharModel } from '@rxrnn/cells';
import { Rng } from '@rxrnn/kernels';
import { describe } from '@rxrnn/kernels/internal';
import { type Checkpoint, CheckpointError, checkCheckpoint, type HistoryEntry } from './checkpoint.js';
import { encodeText, StreamBatcher, splitCorpus } from './corpus.js';
import { clipGradients } from './internal/clip.js';
import { LossMeter, type LossMetrics, lossMetrics } from './metrics.js';
import { createCharModel, type TrainableModel } from './model.js';
import { createOptimizer, type OptimizerConfig, optimizerConfigOf } from './optim/create-optimizer.js';
import type { Optimizer } from './optim/optimizer.js';
import { type LrSchedule, learningRate, validateSchedule } from './optim/schedule.js';
import type { HalfBatchWorker } from './parallel/half-batch-worker.js';

/** Starts a half-batch gradient worker (Node: createHalfBatchWorker from '@rxrnn/trainer/node'). */
export type HalfBatchWorkerFactory = (
  config: TrainableModel['config'],
  paramCount: number,
  stateLen: number,
  T: number,
  B2: number,
) => Promise<HalfBatchWorker>;

/** Settings of an offline run; all plain data so they travel in checkpoints and to workers. */
export interface OfflineTrainingOptions {
  /** B, parallel streams per update. Default 32. */
  batchSize?: number;
  /** T, tokens per truncated-BPTT window. Default 64. */
  bptt?: number;
  /** Optimizer and its hyperparameters. Default Adam (β 0.9/0.999, ε 1e-8). */
  optimizer?: OptimizerConfig;
  /** Base learning rate fed to the schedule. Default 2e-3. */
  lr?: number;
  /** Learning-rate schedule over update steps. Default constant. */
  schedule?: LrSchedule;
  /** Global-norm clipping threshold; null turns clipping off. Default 5. */
  maxGradNorm?: number | null;
  /** Fraction of the corpus (its tail) held out for validation. Default 0.05. */
  valFraction?: number;
  /** Evaluate on the held-out split every this many updates (0 = only when asked). Default 200. */
  evalEvery?: number;
  /** Add a history row (mean train loss since the last row) every this many updates. Default 50. */
  logEvery?: number;
  /**
   * Seed of the trainer's RNG (epoch offsets) and of the dropout masks (see dropoutSeed). The
   * model's init seed is in its own config. Default 1.
   */
  seed?: number;
  /** 1, or 2 to compute half the streams' gradients in a worker thread. Default 1. */
  threads?: 1 | 2;
}

/** OfflineTrainingOptions with every default filled in: what a checkpoint's `training` holds. */
export type ResolvedOfflineOptions = Required<OfflineTrainingOptions>;

/** Largest batchSize and bptt accepted (also from a checkpoint): 65,536 each. */
export const MAX_BATCH = 65_536;
const OPTION_KEYS = [
  'batchSize',
  'bptt',
  'optimizer',
  'lr',
  'schedule',
  'maxGradNorm',
  'valFraction',
  'evalEvery',
  'logEvery',
  'seed',
  'threads',
] as const;

/**
 * Fills in the defaults and checks every option: batchSize and bptt integers in [1, 65536],
 * evalEvery ≥ 0 and logEvery ≥ 1 integers, seed an integer in [0, 2^32), lr finite ≥ 0,
 * maxGradNorm > 0 or null, valFraction in [0, 1), threads 1 or 2, a valid schedule and optimizer.
 * @param where and `prefix` shape the messages: `<where>: <prefix><option> must be ..., got ...`
 *   (defaults `trainer` and ''; a checkpoint's are `checkpoint` and `training.`).
 * @throws RangeError/TypeError naming the option.
 */
export function resolveOfflineOptions(
  o: OfflineTrainingOptions = {},
  where = 'trainer',
  prefix = '',
): ResolvedOfflineOptions {
  const r: ResolvedOfflineOptions = {
    batchSize: o.batchSize ?? 32,
    bptt: o.bptt ?? 64,
    optimizer: o.optimizer ?? { kind: 'adam' },
    lr: o.lr ?? 2e-3,
    schedule: o.schedule ?? { kind: 'constant' },
    maxGradNorm: o.maxGradNorm === undefined ? 5 : o.maxGradNorm,
    valFraction: o.valFraction ?? 0.05,
    evalEvery: o.evalEvery ?? 200,
    logEvery: o.logEvery ?? 50,
    seed: o.seed ?? 1,
    threads: o.threads ?? 1,
  };
  const int = (k: keyof ResolvedOfflineOptions, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = r[k] as number;
    if (!Number.isSafeInteger(v) || v < min || v > max)
      throw new RangeError(
        `${where}: ${prefix}${k} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`}, got ${describe(v)}`,
      );
  };
  int('batchSize', 1, MAX_BATCH);
  int('bptt', 1, MAX_BATCH);
  int('evalEvery', 0);
  int('logEvery', 1);
  int('seed', 0, 2 ** 32 - 1);
  if (typeof r.lr !== 'number' || !(r.lr >= 0 && Number.isFinite(r.lr)))
    throw new RangeError(`${where}: ${prefix}lr must be a finite number >= 0, got ${describe(r.lr)}`);
  if (
    r.maxGradNorm !== null &&
    (typeof r.maxGradNorm !== 'number' || !(r.maxGradNorm > 0 && Number.isFinite(r.maxGradNorm)))
  ) {
    throw new RangeError(
      `${where}: ${prefix}maxGradNorm must be a positive number or null, got ${describe(r.maxGradNorm)}`,
    );
  }
  if (typeof r.valFraction !== 'number' || !(r.valFraction >= 0 && r.valFraction < 1))
    throw new RangeError(`${where}: ${prefix}valFraction must be a number in [0, 1), got ${describe(r.valFraction)}`);
  if (r.threads !== 1 && r.threads !== 2)
    throw new RangeError(`${where}: ${prefix}threads must be 1 or 2, got ${describe(r.threads)}`);
  if (r.threads === 2 && r.batchSize < 2)
    throw new RangeError(`${where}: ${prefix}threads 2 needs batchSize >= 2, got ${r.batchSize}`);
  try {
    validateSchedule(r.schedule);
    // Size 0: the optimizer's options are checked without allocating anything.
    createOptimizer(r.optimizer, 0);
  } catch (e) {
    const what = e instanceof Error && e.message.startsWith('schedule') ? 'schedule' : 'optimizer';
    throw new RangeError(`${where}: ${prefix}${what}: ${(e as Error).message}`);
  }
  return r;
}

/**
 * The seed of the dropout masks of update `step` (0-based) in a run with trainer seed `seed`:
 * (seed·0x9e3779b1 + step) mod 2³². A function of the update number rather than a generator's
 * state, so a run resumed from a checkpoint (which stores the step) draws the same masks as an
 * uninterrupted one, and both thread counts draw the same masks (per global batch row).
 */
export function dropoutSeed(seed: number, step: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + step) >>> 0;
}

/** What one update did. Loss is the mean over the window's B·T predictions. */
export interface StepReport {
  /** Updates applied so far, this one included. */
  step: number;
  /** The window's mean loss (nats, bits, perplexity per token). */
  loss: LossMetrics;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** Whether clipping scaled the gradient down (gradNorm > maxGradNorm). */
  clipped: boolean;
  /** The learning rate the schedule gave this update. */
  lr: number;
  /** Training tokens consumed so far (B·T per update). */
  tokens: number;
  /** Completed passes over the training text. */
  epoch: number;
}

/**
 * Offline truncated backpropagation through time, one update at a time: the training text (all
 * but the held-out tail) is cut into B parallel streams; each update runs a [T × B] window from
 * the streams' carried (detached) state, clips the global gradient norm, and steps the optimizer.
 * Checkpoints resume exactly (toCheckpoint, fromCheckpoint / resume). trainOffline drives one for
 * a step or time budget; use this class to step by hand.
 *
 * @example
 * ```ts
 * import { CharModel, Vocabulary } from '@rxrnn/cells';
 * import { OfflineTrainer } from '@rxrnn/trainer';
 * const text = 'to be or not to be. '.repeat(30);
 * const model = new CharModel({ cell: 'gru', vocab: Vocabulary.fromText(text).chars, hidden: 16, seed: 1 });
 * const trainer = await OfflineTrainer.create(model, text, { batchSize: 4, bptt: 16, valFraction: 0.1 });
 * for (let i = 0; i < 5; i++) console.log(trainer.trainStep().loss.nats);
 * console.log(trainer.evaluate().nats); // held-out loss
 * const ckpt = trainer.toCheckpoint(); // everything a resume needs
 * await trainer.close();
 * ```
 */
export class OfflineTrainer {
  /** The settings, defaults filled in. */
  readonly options: ResolvedOfflineOptions;
  /** The optimizer stepping the model's params. */
  readonly optimizer: Optimizer;
  /** Token ids of the training part of the corpus. */
  readonly train: Int32Array;
  /** Token ids of the held-out tail (empty when valFraction is 0). */
  readonly val: Int32Array;
  /** One row per logged update or evaluation, oldest first. */
  readonly history: HistoryEntry[] = [];
  /** The best validation loss so far and the parameters that scored it (a copy), or null. */
  best: {
    /** Mean validation loss, nats per token. */
    valLoss: number;
    /** The update it was measured after. */
    step: number;
    /** The parameters that scored it. */
    params: Float32Array;
  } | null = null;
  /** Training tokens consumed so far. */
  tokens = 0;
  /** Seconds spent in trainStep so far. */
  seconds = 0;

  private readonly rng: Rng;
  private readonly batcher: StreamBatcher;
  private readonly b1: number;
  private readonly state: Float32Array;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;
  private readonly meter = new LossMeter();
  private worker: HalfBatchWorker | null = null;
  // Worker stream state restored before a worker was attached (handed over by attachWorker).
  private pendingWorkerState: Float32Array | null = null;

  /**
   * A trainer for threads 1 (use create() for threads 2, which starts a worker).
   * @param model a CharModel (or anything with its training surface); its params are updated in place.
   * @param corpus the text, or ids already encoded with the model's vocabulary.
   */
  constructor(
    readonly model: TrainableModel,
    corpus: string | Int32Array,
    options: OfflineTrainingOptions = {},
  ) {
    this.options = resolveOfflineOptions(options);
    const { batchSize: B, bptt: T, threads } = this.options;
    const ids = typeof corpus === 'string' ? encodeText(corpus, model.config.vocab) : corpus;
    if (!(ids instanceof Int32Array))
      throw new TypeError(`trainer: corpus must be a string or Int32Array, got ${typeof corpus}`);
    const V = model.config.vocab.length;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i]! < 0 || ids[i]! >= V)
        throw new RangeError(`trainer: token id ${ids[i]} at position ${i}, expected 0..${V - 1}`);
    }
    ({ train: this.train, val: this.val } = splitCorpus(ids, this.options.valFraction));
    this.rng = new Rng(this.options.seed);
    this.batcher = new StreamBatcher(this.train, B, T, this.rng);
    this.optimizer = createOptimizer(this.options.optimizer, model.params.length);
    // With a worker, this thread runs streams [0, b1) and the worker [b1, B).
    this.b1 = threads === 2 ? B >> 1 : B;
    this.state = model.createState(this.b1);
    this.inputs = new Int32Array(T * this.b1);
    this.targets = new Int32Array(T * this.b1);
  }

  /** Updates applied so far. */
  get step(): number {
    return this.optimizer.stepCount;
  }

  /** Completed passes over the training text. */
  get epoch(): number {
    return this.batcher.getCursor().epoch;
  }

  /** Attaches the worker that computes streams [B/2, B) (see createHalfBatchWorker). */
  attachWorker(worker: HalfBatchWorker): void {
    if (this.options.threads !== 2)
      throw new RangeError(`trainer: attachWorker needs threads 2, options say ${this.options.threads}`);
    this.worker = worker;
    if (this.pendingWorkerState) worker.setState(this.pendingWorkerState);
    this.pendingWorkerState = null;
  }

  /**
   * Builds a trainer and, for threads 2, starts its half-batch worker (which is why this is async).
   * Call close() when done so the worker thread exits.
   */
  static async create(
    model: TrainableModel,
    corpus: string | Int32Array,
    options: OfflineTrainingOptions = {},
    createWorker?: HalfBatchWorkerFactory,
  ): Promise<OfflineTrainer> {
    const tr = new OfflineTrainer(model, corpus, options);
    await tr.startWorker(createWorker);
    return tr;
  }

  /** fromCheckpoint plus the worker a threads-2 checkpoint needs. */
  static async resume(
    ckpt: Checkpoint,
    corpus: string | Int32Array,
    override: Pick<OfflineTrainingOptions, 'evalEvery' | 'logEvery'> = {},
    createWorker?: HalfBatchWorkerFactory,
  ): Promise<OfflineTrainer> {
    const tr = OfflineTrainer.fromCheckpoint(ckpt, corpus, override);
    await tr.startWorker(createWorker);
    return tr;
  }

  /** Stops the worker thread, if any. The trainer can still evaluate and checkpoint afterwards. */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.pendingWorkerState = w.getState();
    this.worker = null;
    await w.close();
  }

  private async startWorker(createWorker: HalfBatchWorkerFactory | undefined): Promise<void> {
    if (this.options.threads !== 2 || this.worker) return;
    // Worker threads are Node-only; the browser-safe entry cannot import them itself.
    if (!createWorker)
      throw new RangeError(
        "trainer: threads 2 needs a worker factory; use the '@rxrnn/trainer/node' entry (createOfflineTrainer, trainOfflineToFile) or pass createHalfBatchWorker",
      );
    const { batchSize: B, bptt: T } = this.options;
    const B2 = B - this.b1;
    const stateLen = this.model.createState(B2).length;
    this.attachWorker(await createWorker(this.model.config, this.model.params.length, stateLen, T, B2));
  }

  /** One truncated-BPTT update: forward T tokens of every stream, backward, clip, step. */
  trainStep(): StepReport {
    const { bptt: T, batchSize: B, maxGradNorm } = this.options;
    const { model, batcher, worker } = this;
    if (this.options.threads === 2 && !worker)
      throw new RangeError(
        "trainer: threads 2 but no worker attached (build it with createOfflineTrainer from '@rxrnn/trainer/node')",
      );
    // The streams jump at an epoch boundary, so their carried state no longer belongs to them.
    const reset = batcher.atEpochStart;
    if (reset) this.state.fill(0);
    const lr = learningRate(this.options.schedule, this.options.lr, this.step);
    model.zeroGrads();
    batcher.fill(this.inputs, this.targets, 0, this.b1);
    // Dropout masks of this update (ignored by a model without dropout): rows [0, b1) here, [b1, B) in the worker.
    const seed = dropoutSeed(this.options.seed, this.step);
    if (worker) {
      batcher.fill(worker.inputs, worker.targets, this.b1, B);
      worker.begin(model.params, reset, { seed, firstRow: this.b1 });
    }
    let { lossSum, count } = model.lossAndGrad(this.inputs, this.targets, T, this.b1, this.state, {
      seed,
      firstRow: 0,
    });
    if (worker) {
      // Both halves hold gradients of their own MEAN loss: weight them by their counts so the sum
      // is the gradient of the whole batch's mean (0.5/0.5 for an even split, exact in float).
      const r = worker.end();
      const a = count / (count + r.count);
      const b = r.count / (count + r.count);
      const g = model.grads;
      const wg = r.grads;
      for (let i = 0; i < g.length; i++) g[i] = a * g[i]! + b * wg[i]!;
      lossSum += r.lossSum;
      count += r.count;
    }
    const { norm, clipped } = clipGradients(model.grads, maxGradNorm);
    if (!Number.isFinite(norm) || !Number.isFinite(lossSum)) {
      // Refuse the update: a non-finite gradient would poison every parameter it touches.
      throw new RangeError(
        `trainer: non-finite ${Number.isFinite(lossSum) ? 'gradient norm' : 'loss'} at step ${this.step}; parameters left unchanged`,
      );
    }
    this.optimizer.step(model.params, model.grads, lr);
    batcher.advance();
    this.tokens += count;
    this.meter.add(lossSum, count);
    const step = this.step;
    if (step % this.options.logEvery === 0) this.log(lr);
    return {
      step,
      loss: lossMetrics(lossSum, count),
      gradNorm: norm,
      clipped,
      lr,
      tokens: this.tokens,
      epoch: this.epoch,
    };
  }

  /** Mean loss on the held-out split with the current parameters (state from zeros). */
  evaluate(params?: Float32Array): LossMetrics {
    const { val, model } = this;
    const T = this.options.bptt;
    if (val.length < 2)
      throw new RangeError(`trainer: validation split has ${val.length} tokens, need at least 2 (raise valFraction)`);
    let saved: Float32Array | null = null;
    if (params) {
      saved = model.params.slice();
      model.params.set(params);
    }
    try {
      // Bv streams of at least 8 windows each, so the cold start of each stream matters little.
      const Bv = Math.max(1, Math.min(this.options.batchSize, Math.floor((val.length - 1) / (8 * T))));
      const len = Math.floor((val.length - 1) / Bv);
      const state = model.createState(Bv);
      const inputs = new Int32Array(T * Bv);
      const targets = new Int32Array(T * Bv);
      let lossSum = 0;
      let count = 0;
      for (let pos = 0; pos < len; pos += T) {
        const t = Math.min(T, len - pos);
        const inp = t === T ? inputs : inputs.subarray(0, t * Bv);
        const tgt = t === T ? targets : targets.subarray(0, t * Bv);
        for (let b = 0; b < Bv; b++) {
          for (let k = 0; k < t; k++) {
            inp[k * Bv + b] = val[b * len + pos + k]!;
            tgt[k * Bv + b] = val[b * len + pos + k + 1]!;
          }
        }
        const r = model.evaluate(inp, tgt, t, Bv, state);
        lossSum += r.lossSum;
        count += r.count;
      }
      return lossMetrics(lossSum, count);
    } finally {
      if (saved) model.params.set(saved);
    }
  }

  /** Evaluates, records the result in the history and keeps the parameters if they are the best. */
  evaluateAndRecord(): {
    /** The held-out loss. */
    val: LossMetrics;
    /** Whether it beat the best so far (best now holds these parameters). */
    improved: boolean;
  } {
    const val = this.evaluate();
    const improved = this.best === null || val.nats < this.best.valLoss;
    if (improved) this.best = { valLoss: val.nats, step: this.step, params: this.model.params.slice() };
    const last = this.history[this.history.length - 1];
    if (last && last.step === this.step) last.valLoss = val.nats;
    else {
      // A row of its own: the train mean since the previous row (if any update happened) goes with it.
      const train = this.meter.metrics();
      this.history.push({ ...this.historyBase(), ...(train ? { trainLoss: train.nats } : {}), valLoss: val.nats });
      this.meter.reset();
    }
    return { val, improved };
  }

  /** The full training state as a checkpoint (all buffers copied). */
  toCheckpoint(): Checkpoint {
    const workerState = this.worker?.getState() ?? this.pendingWorkerState;
    const state = workerState ? concat(this.state, workerState) : this.state.slice();
    return {
      model: structuredClone(this.model.config),
      params: this.model.params.slice(),
      training: structuredClone(this.options) as unknown as Record<string, unknown>,
      optimizer: this.optimizer.getState(),
      rng: this.rng.getState().slice(),
      cursor: { ...this.batcher.getCursor(), state },
      counters: { step: this.step, tokens: this.tokens, seconds: this.seconds, ...this.meter.snapshot() },
      history: this.history.map((h) => ({ ...h })),
      best: this.best && { ...this.best, params: this.best.params.slice() },
    };
  }

  /**
   * Rebuilds a trainer from a checkpoint and the same corpus. Training options come from the
   * checkpoint; `override` may change only what does not alter the update arithmetic. Everything
   * is checked before the model is built: the checkpoint (checkCheckpoint), its `training` as
   * offline options (every key known, every value in range), the optimizer state against
   * `training.optimizer`, the carried state against `training.batchSize`, and the text against
   * the checkpoint's vocabulary.
   * @throws CheckpointError naming the field for a checkpoint that cannot be resumed; RangeError
   *   for a text with a character outside the checkpoint's vocabulary (which is fixed when a model
   *   is created) or one too short for its batch.
   */
  static fromCheckpoint(
    ckpt: Checkpoint,
    corpus: string | Int32Array,
    override: Pick<OfflineTrainingOptions, 'evalEvery' | 'logEvery'> = {},
    model?: TrainableModel,
  ): OfflineTrainer {
    const c = checkCheckpoint(ckpt);
    const options = OfflineTrainer.checkpointOptions(c, override);
    const vocab = c.model.vocab;
    if (typeof corpus === 'string') {
      const index = new Set(vocab);
      let at = 0;
      for (const ch of corpus) {
        if (!index.has(ch)) {
          throw new RangeError(
            `OfflineTrainer.fromCheckpoint: the text has ${JSON.stringify(ch)} at character ${at}, which is not in the checkpoint's vocabulary of ${vocab.length} characters; a model's vocabulary is fixed when it is created, so resume with the text it was trained on (or one without new characters), or train a new model`,
          );
        }
        at++;
      }
    }
    const size = model?.params.length ?? CharModel.layoutOf(c.model).size;
    if (size !== c.params.length) {
      throw new CheckpointError(`checkpoint: ${c.params.length} parameters, the model has ${size}`);
    }
    // Built from the checkpoint's weights (restore() sets them again): no initialization.
    const m = model ?? createCharModel(c.model, c.params);
    const tr = new OfflineTrainer(m, corpus, options);
    tr.restore(c);
    return tr;
  }

  /**
   * The offline options a checkpoint resumes with (its `training`, `override` applied), checked
   * without allocating anything: only known options, each in range (batchSize and bptt at most
   * MAX_BATCH), the optimizer state made by `training.optimizer`, and `cursor.state` sized
   * batchSize × the model's state size. What a command line reads before it trusts `batchSize`.
   * @throws CheckpointError naming the field (`checkpoint: training.batchSize must be ...`).
   */
  static checkpointOptions(
    ckpt: Checkpoint,
    override: Pick<OfflineTrainingOptions, 'evalEvery' | 'logEvery'> = {},
  ): ResolvedOfflineOptions {
    return checkpointOptions(checkCheckpoint(ckpt), override);
  }

  /**
   * Loads a checkpoint's state into this trainer (same model config, corpus and options).
   * @throws CheckpointError naming what does not match; the trainer is unchanged then.
   */
  restore(ckpt: Checkpoint): void {
    const fail = (msg: string): never => {
      throw new CheckpointError(`checkpoint: ${msg}`);
    };
    const c = checkCheckpoint(ckpt);
    if (JSON.stringify(c.model) !== JSON.stringify(this.model.config))
      fail("model config differs from the trainer's model");
    if (c.params.length !== this.model.params.length)
      fail(`${c.params.length} parameters, the model has ${this.model.params.length}`);
    for (const key of ['batchSize', 'bptt', 'threads', 'valFraction'] as const) {
      if (c.training[key] !== this.options[key])
        fail(`training.${key} is ${describe(c.training[key])}, this trainer uses ${String(this.options[key])}`);
    }
    const B = this.options.batchSize;
    const stateLen = this.model.createState(B).length;
    if (c.cursor.state.length !== stateLen)
      fail(`cursor.state length ${c.cursor.state.length}, expected training.batchSize × state size = ${stateLen}`);
    const mismatch = optimizerMismatch(this.options.optimizer, c);
    if (mismatch) fail(mismatch);
    // The cursor must fit this text: a different text (or a different length) cannot continue.
    const saved = this.batcher.getCursor();
    try {
      this.batcher.setCursor(c.cursor);
    } catch (e) {
      this.batcher.setCursor(saved);
      fail(
        `cursor (position ${c.cursor.position}, shift ${c.cursor.shift}) does not fit this text (${(e as Error).message.replace(/^StreamBatcher: /, '')}): resume with the text the checkpoint was trained on`,
      );
    }
    this.model.params.set(c.params);
    this.optimizer.setState(c.optimizer);
    this.rng.setState(c.rng);
    this.state.set(c.cursor.state.subarray(0, this.state.length));
    const rest = c.cursor.state.slice(this.state.length);
    if (this.worker) this.worker.setState(rest);
    else if (rest.length > 0) this.pendingWorkerState = rest;
    this.tokens = c.counters.tokens;
    this.seconds = c.counters.seconds;
    this.history.length = 0;
    this.history.push(...c.history.map((h) => ({ ...h })));
    this.best = c.best && { ...c.best, params: c.best.params.slice() };
    this.meter.restore(c.counters.lossSum ?? 0, c.counters.lossCount ?? 0);
  }

  private historyBase(): Omit<HistoryEntry, 'trainLoss'> {
    return {
      step: this.step,
      tokens: this.tokens,
      seconds: this.seconds,
      lr: learningRate(this.options.schedule, this.options.lr, Math.max(0, this.step - 1)),
    };
  }

  private log(lr: number): void {
    const m = this.meter.metrics();
    if (!m) return;
    this.history.push({ ...this.historyBase(), lr, trainLoss: m.nats });
    this.meter.reset();
    // Keep checkpoints small on very long runs: thin the older half when the history grows large.
    if (this.history.length > 4000) {
      const keep = this.history.filter((h, i) => i >= 2000 || h.valLoss !== undefined || i % 2 === 0);
      this.history.length = 0;
      this.history.push(...keep);
    }
  }
}

/**
 * A checkpoint's `training` as offline options (with `override` applied), checked before anything
 * is allocated: only known options, each in range, the carried state sized B × state size.
 */
function checkpointOptions(
  c: Checkpoint,
  override: Pick<OfflineTrainingOptions, 'evalEvery' | 'logEvery'>,
): ResolvedOfflineOptions {
  const fail = (msg: string): never => {
    throw new CheckpointError(`checkpoint: ${msg}`);
  };
  const t = c.training;
  if (t.mode !== undefined)
    fail(`training.mode is ${describe(t.mode)}: written by another kind of run, not by offline training`);
  for (const key of Object.keys(t))
    if (!(OPTION_KEYS as readonly string[]).includes(key)) fail(`training.${key} is not an offline training option`);
  for (const key of OPTION_KEYS) if (t[key] === undefined) fail(`training.${key} missing`);
  let options: ResolvedOfflineOptions;
  try {
    options = resolveOfflineOptions({ ...(t as OfflineTrainingOptions), ...override }, 'checkpoint', 'training.');
  } catch (e) {
    return fail((e as Error).message.replace(/^checkpoint: /, ''));
  }
  const stateSize = CharModel.layoutOf(c.model).stateSize;
  const want = options.batchSize * stateSize;
  if (c.cursor.state.length !== want)
    fail(
      `cursor.state length ${c.cursor.state.length}, expected training.batchSize × the model's state size = ${options.batchSize} × ${stateSize} = ${want}`,
    );
  const mismatch = optimizerMismatch(options.optimizer, c);
  if (mismatch) fail(mismatch);
  return options;
}

/** Why the checkpoint's optimizer state was not made by `config`, or null. */
function optimizerMismatch(config: OptimizerConfig, c: Checkpoint): string | null {
  const want = createOptimizer(config, 0).getState();
  const saved = optimizerConfigOf(c.optimizer);
  const got = createOptimizer(saved, 0).getState();
  if (want.kind !== got.kind || JSON.stringify(want.options) !== JSON.stringify(got.options))
    return `optimizer state (${saved.kind} ${JSON.stringify(got.options)}) was not made by training.optimizer (${config.kind} ${JSON.stringify(want.options)})`;
  return null;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
