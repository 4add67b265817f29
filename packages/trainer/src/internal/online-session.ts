// Per-subscription machinery shared by trainOnline() and scoreOnline(): turns incoming tokens
// into windows of T+1 ids (overlapping by one), queues at most `maxPendingWindows` of them, and
// runs one truncated-BPTT update per window with B = 1. Owns a fixed pool of window buffers,
// the carried [1×S] state and (unless one is passed in) the optimizer; the model is the caller's.
import { vocabIndex } from '../corpus.js';
import type { TrainableModel } from '../model.js';
import { createOptimizer, type OptimizerConfig } from '../optim/create-optimizer.js';
import type { Optimizer } from '../optim/optimizer.js';
import { type LrSchedule, learningRate, validateSchedule } from '../optim/schedule.js';
import { clipGradients } from './clip.js';

/** What the operators accept: text chunks of any length, single token ids, or arrays of ids. */
export type OnlineInput = string | number | ArrayLike<number>;

/** Options of trainOnline (and, without the queue, scoreOnline). */
export interface OnlineOptions {
  /** T, tokens per update window. Default 64. */
  bptt?: number;
  /** Optimizer config, or a live Optimizer (sized for model.params) to continue its state. Default Adam. */
  optimizer?: OptimizerConfig | Optimizer;
  /** Base learning rate. Default 1e-3 (lower than offline: one stream, no batch averaging). */
  lr?: number;
  /** Schedule over this subscription's updates. Default constant. */
  schedule?: LrSchedule;
  /** Global-norm clipping threshold, null for none. Default 5. */
  maxGradNorm?: number | null;
  /** Full windows waiting for training, at most. Default 8. */
  maxPendingWindows?: number;
  /**
   * When a window arrives and the queue is full: 'drop-oldest' discards the oldest pending window
   * and counts it (memory stays bounded, the freshest text is learned); 'block' trains the oldest
   * window right there, inside the producer's next() call, so a synchronous producer is throttled
   * to training speed. Default 'drop-oldest'.
   */
  overflow?: 'drop-oldest' | 'block';
  /** Chars outside the vocabulary: 'error' fails the stream, 'skip' drops them (counted). Default 'error'. */
  unknownChars?: 'error' | 'skip';
}

/** What trainOnline emits after every update. */
export interface OnlineTrainEvent {
  /** Updates applied in this subscription. */
  step: number;
  /** Mean loss over the window, nats per token. */
  loss: number;
  /** The same in bits per token. */
  bpc: number;
  /** Pre-clip global gradient norm. */
  gradNorm: number;
  /** Whether clipping scaled the gradient down. */
  clipped: boolean;
  /** The learning rate of this update. */
  lr: number;
  /** Tokens in this window / seconds spent training it. */
  tokensPerSecond: number;
  /** Tokens trained on so far. */
  tokens: number;
  /** Windows discarded because the producer outran training (overflow 'drop-oldest'). */
  droppedWindows: number;
  /** Windows waiting after this one. */
  pending: number;
  /** Chars skipped as unknown (unknownChars 'skip'). */
  skippedChars: number;
}

export class OnlineSession {
  readonly T: number;
  readonly maxPending: number;
  readonly overflow: 'drop-oldest' | 'block';
  tokensSeen = 0;
  dropped = 0;
  skipped = 0;
  trainedTokens = 0;
  steps = 0;

  private readonly optimizer: Optimizer;
  private readonly lr: number;
  private readonly schedule: LrSchedule;
  private readonly maxGradNorm: number | null;
  private readonly unknownChars: 'error' | 'skip';
  private readonly index: Map<string, number>;
  private readonly V: number;
  private readonly state: Float32Array;
  // The window being filled, and a ring of full windows with their lengths (in tokens).
  private current: Int32Array;
  private fill = 0;
  private readonly pool: Int32Array[] = [];
  private readonly queue: { ids: Int32Array; len: number }[] = [];

  /** Checks options eagerly (operator factories call this so bad options throw at pipe time). */
  static validate(model: TrainableModel, o: OnlineOptions, name: string): void {
    const T = o.bptt ?? 64;
    const maxPending = o.maxPendingWindows ?? 8;
    const lr = o.lr ?? 1e-3;
    if (!Number.isInteger(T) || T < 1) throw new RangeError(`${name}: bptt must be a positive integer, got ${T}`);
    if (!Number.isInteger(maxPending) || maxPending < 1)
      throw new RangeError(`${name}: maxPendingWindows must be a positive integer, got ${maxPending}`);
    if (o.overflow !== undefined && o.overflow !== 'drop-oldest' && o.overflow !== 'block')
      throw new RangeError(`${name}: overflow must be 'drop-oldest' or 'block', got ${String(o.overflow)}`);
    if (o.unknownChars !== undefined && o.unknownChars !== 'error' && o.unknownChars !== 'skip')
      throw new RangeError(`${name}: unknownChars must be 'error' or 'skip', got ${String(o.unknownChars)}`);
    if (!(lr >= 0 && Number.isFinite(lr))) throw new RangeError(`${name}: lr must be a finite number >= 0, got ${lr}`);
    if (o.maxGradNorm != null && !(o.maxGradNorm > 0 && Number.isFinite(o.maxGradNorm)))
      throw new RangeError(`${name}: maxGradNorm must be a positive number or null, got ${o.maxGradNorm}`);
    validateSchedule(o.schedule ?? { kind: 'constant' });
    const opt = o.optimizer;
    if (opt && 'step' in opt && typeof opt.step === 'function' && (opt as Optimizer).size !== model.params.length) {
      throw new RangeError(
        `${name}: optimizer size ${(opt as Optimizer).size}, model has ${model.params.length} parameters`,
      );
    }
    if (!model || !(model.params instanceof Float32Array))
      throw new TypeError(`${name}: model must be a CharModel (params Float32Array), got ${typeof model}`);
  }

  constructor(
    readonly model: TrainableModel,
    o: OnlineOptions,
    readonly name: string,
  ) {
    OnlineSession.validate(model, o, name);
    this.T = o.bptt ?? 64;
    this.maxPending = o.maxPendingWindows ?? 8;
    this.overflow = o.overflow ?? 'drop-oldest';
    this.lr = o.lr ?? 1e-3;
    this.schedule = validateSchedule(o.schedule ?? { kind: 'constant' });
    this.maxGradNorm = o.maxGradNorm === undefined ? 5 : o.maxGradNorm;
    this.unknownChars = o.unknownChars ?? 'error';
    const opt = o.optimizer ?? { kind: 'adam' };
    this.optimizer =
      'step' in opt && typeof opt.step === 'function'
        ? (opt as Optimizer)
        : createOptimizer(opt as OptimizerConfig, model.params.length);
    this.index = vocabIndex(model.config.vocab);
    this.V = model.config.vocab.length;
    this.state = model.createState(1);
    // maxPending queued + one in training + one filling: the pool never grows past that.
    for (let i = 0; i < this.maxPending + 1; i++) this.pool.push(new Int32Array(this.T + 1));
    this.current = new Int32Array(this.T + 1);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Decodes one source value into token ids, calling `onToken` for each (position-checked). */
  forEachToken(value: OnlineInput, onToken: (id: number) => void): void {
    if (typeof value === 'string') {
      for (const ch of value) {
        const id = this.index.get(ch);
        if (id === undefined) {
          if (this.unknownChars === 'skip') {
            this.skipped++;
            continue;
          }
          throw new RangeError(
            `${this.name}: char ${JSON.stringify(ch)} at token ${this.tokensSeen} is not in the model's vocabulary of ${this.V} chars`,
          );
        }
        this.tokensSeen++;
        onToken(id);
      }
    } else if (typeof value === 'number') {
      this.checkId(value);
      this.tokensSeen++;
      onToken(value);
    } else if (value !== null && typeof value === 'object' && typeof value.length === 'number') {
      for (let i = 0; i < value.length; i++) {
        this.checkId(value[i]!);
        this.tokensSeen++;
        onToken(value[i]!);
      }
    } else {
      throw new TypeError(
        `${this.name}: expected a string, a token id or an array of ids at token ${this.tokensSeen}, got ${value === null ? 'null' : typeof value}`,
      );
    }
  }

  /**
   * Appends a token; when it completes a window, queues it. Returns a window that must be trained
   * NOW (overflow 'block' with a full queue), else null.
   */
  push(id: number): { ids: Int32Array; len: number } | null {
    this.current[this.fill++] = id;
    if (this.fill < this.T + 1) return null;
    return this.enqueueCurrent();
  }

  /** At the end of the stream: queues the partial window if it holds at least one prediction. */
  flush(): { ids: Int32Array; len: number } | null {
    return this.fill >= 2 ? this.enqueueCurrent() : null;
  }

  /** The oldest pending window, or null. Hand it back with `release` after training. */
  next(): { ids: Int32Array; len: number } | null {
    return this.queue.shift() ?? null;
  }

  release(w: { ids: Int32Array }): void {
    this.pool.push(w.ids);
  }

  /** One update on a window of len tokens (len − 1 predictions), B = 1, state carried. */
  train(w: { ids: Int32Array; len: number }): OnlineTrainEvent {
    const t0 = performance.now();
    const T = w.len - 1;
    const { model } = this;
    const lr = learningRate(this.schedule, this.lr, this.steps);
    model.zeroGrads();
    const { lossSum, count } = model.lossAndGrad(w.ids.subarray(0, T), w.ids.subarray(1, T + 1), T, 1, this.state);
    const { norm, clipped } = clipGradients(model.grads, this.maxGradNorm);
    if (!Number.isFinite(norm) || !Number.isFinite(lossSum)) {
      throw new RangeError(
        `${this.name}: non-finite ${Number.isFinite(lossSum) ? 'gradient norm' : 'loss'} at update ${this.steps}; parameters left unchanged`,
      );
    }
    this.optimizer.step(model.params, model.grads, lr);
    this.steps++;
    this.trainedTokens += count;
    const seconds = Math.max((performance.now() - t0) / 1000, 1e-9);
    const loss = lossSum / count;
    return {
      step: this.steps,
      loss,
      bpc: loss / Math.LN2,
      gradNorm: norm,
      clipped,
      lr,
      tokensPerSecond: count / seconds,
      tokens: this.trainedTokens,
      droppedWindows: this.dropped,
      pending: this.queue.length,
      skippedChars: this.skipped,
    };
  }

  private enqueueCurrent(): { ids: Int32Array; len: number } | null {
    const full = { ids: this.current, len: this.fill };
    // The next window starts with this one's last token: its prediction target chain continues.
    const nextBuf = this.pool.pop();
    let mustTrain: { ids: Int32Array; len: number } | null = null;
    if (this.queue.length >= this.maxPending) {
      const oldest = this.queue.shift()!;
      if (this.overflow === 'block') mustTrain = oldest;
      else {
        this.dropped++;
        this.pool.push(oldest.ids);
      }
    }
    this.queue.push(full);
    this.current = nextBuf ?? this.pool.pop() ?? new Int32Array(this.T + 1);
    this.current[0] = full.ids[full.len - 1]!;
    this.fill = 1;
    return mustTrain;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.V) {
      throw new RangeError(
        `${this.name}: token id ${String(id)} at token ${this.tokensSeen}, expected an integer in 0..${this.V - 1}`,
      );
    }
  }
}
