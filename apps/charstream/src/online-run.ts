// One online training run: text chunks → (every n-th block held out for validation) → trainOnline
// → history rows, periodic validation, atomic checkpoints, a time budget and an AbortSignal.
// Shared by `train --input -`, the default demo and the serve worker; the model is updated in place.
import { CharModel } from '@rxrnn/cells';
import {
  type Checkpoint,
  type HistoryEntry,
  type OnlineTrainEvent,
  type Optimizer,
  saveCheckpoint,
  trainOnline,
} from '@rxrnn/trainer/node';
import { Observable, Subscription } from 'rxjs';
import { onlineCheckpoint } from './model-io.js';

/** Settings of an online run. */
export interface OnlineRunOptions {
  /** The model to train (its params change in place). */
  model: CharModel;
  /** The live optimizer (kept across runs so a checkpoint holds its state). */
  optimizer: Optimizer;
  /** Text as it arrives, in chunks of any size. The run ends when it completes (or earlier). */
  source: Observable<string>;
  /** T, characters per truncated-BPTT window. Default 64. */
  bptt?: number;
  /** Learning rate. Default 3e-3. */
  lr?: number;
  /** Global-norm clipping threshold. Default 5. */
  maxGradNorm?: number;
  /** Every n-th block of `blockChars` characters is held out for validation (0: none). Default 20. */
  holdOutEvery?: number;
  /** Size of the blocks the stream is cut into for the hold-out. Default 256. */
  blockChars?: number;
  /** Most held-out characters kept (the most recent). Default 4096. */
  valChars?: number;
  /** Seconds between validation evaluations. Default 10. */
  evalEvery?: number;
  /** Updates averaged into one history row. Default 20. */
  logEvery?: number;
  /** Seconds of training, then stop. Default: until the source completes or the signal aborts. */
  seconds?: number;
  /** Updates in this run, then stop. Default: no limit. */
  maxSteps?: number;
  signal?: AbortSignal;
  /** Counters and history to continue from (a resumed checkpoint). */
  resume?: Pick<Checkpoint, 'counters' | 'history'>;
  /** Write checkpoints here (atomically) every `checkpointEvery` seconds and at the end. */
  checkpointPath?: string;
  /** Seconds between periodic checkpoints. Default 30. */
  checkpointEvery?: number;
  /** Plain-data settings recorded in checkpoints. */
  training?: Record<string, unknown>;
  /** Called after every update with the run's totals. */
  onUpdate?: (u: OnlineUpdate) => void;
  /** Called after every validation evaluation. */
  onEval?: (e: { step: number; tokens: number; valLoss: number }) => void;
  /**
   * Called once at the start with a way to take a checkpoint of the run at any moment, and to read
   * the held-out text gathered so far (never trained on; at most `valChars` characters).
   */
  onStart?: (run: { checkpoint(): Checkpoint; heldOut(): string }) => void;
  /** Called after every checkpoint write. */
  onCheckpoint?: (path: string, bytes: number) => void;
}

/** An update as the app reports it: trainOnline's event with run-wide counters. */
export interface OnlineUpdate extends OnlineTrainEvent {
  /** Updates in the whole run, including resumed ones. */
  totalSteps: number;
  /** Characters trained on in the whole run, including resumed ones. */
  totalTokens: number;
  /** Seconds since this run started. */
  elapsed: number;
  /** Characters per second over this run. */
  charsPerSecond: number;
  /** Seconds left of the budget, or null. */
  remaining: number | null;
  /** Loss (nats/char) averaged over recent updates (bias-corrected EMA, weight 0.05): one window is noisy. */
  smoothLoss: number;
}

export interface OnlineRunSummary {
  steps: number;
  tokens: number;
  seconds: number;
  charsPerSecond: number;
  /** Mean train loss of the last history row (nats/char), or null before any. */
  trainLoss: number | null;
  /** Last validation loss (nats/char), or null without held-out text. */
  valLoss: number | null;
  history: HistoryEntry[];
  stoppedBy: 'end' | 'time' | 'steps' | 'abort';
  checkpoint: Checkpoint;
}

/**
 * Runs until the source completes, the budget runs out or the signal aborts; then evaluates,
 * saves the final checkpoint and resolves (windows still queued at a stop are dropped). Errors
 * in the stream reject.
 */
export function runOnline(o: OnlineRunOptions): Promise<OnlineRunSummary> {
  const { model, optimizer } = o;
  const bptt = o.bptt ?? 64;
  const lr = o.lr ?? 3e-3;
  const maxGradNorm = o.maxGradNorm ?? 5;
  const holdOutEvery = o.holdOutEvery ?? 20;
  const blockChars = o.blockChars ?? 256;
  const valChars = o.valChars ?? 4096;
  const evalEvery = o.evalEvery ?? 10;
  const logEvery = o.logEvery ?? 20;
  const checkpointEvery = o.checkpointEvery ?? 30;
  const base = o.resume?.counters ?? { step: 0, tokens: 0, seconds: 0 };
  const history: HistoryEntry[] = (o.resume?.history ?? []).map((h) => ({ ...h }));
  const validation = new HeldOut(valChars);
  const evaluator = new Evaluator(model, bptt);
  const start = performance.now();
  let steps = 0;
  let tokens = 0;
  let rowLoss = 0;
  let rowCount = 0;
  let lastEval = start;
  let savedSteps = 0;
  let lastValLoss: number | null = null;
  let lastEvalStep = -1;
  let stoppedBy: OnlineRunSummary['stoppedBy'] = 'end';
  let ema = 0;
  let emaWeight = 0;

  const elapsed = () => (performance.now() - start) / 1000;
  const record = (): Checkpoint =>
    onlineCheckpoint(model, optimizer, {
      step: base.step + steps,
      tokens: base.tokens + tokens,
      seconds: base.seconds + elapsed(),
      history,
      training: { bptt, lr, maxGradNorm, ...o.training },
      seed: 1,
    });
  const save = () => {
    savedSteps = steps;
    if (!o.checkpointPath) return;
    const bytes = saveCheckpoint(o.checkpointPath, record());
    o.onCheckpoint?.(o.checkpointPath, bytes);
  };
  const rowBase = () => ({
    step: base.step + steps,
    tokens: base.tokens + tokens,
    seconds: base.seconds + elapsed(),
    lr,
  });
  const flushRow = () => {
    if (rowCount === 0) return;
    history.push({ ...rowBase(), trainLoss: rowLoss / rowCount });
    rowLoss = 0;
    rowCount = 0;
    if (history.length > MAX_HISTORY) thinHistory(history);
  };
  const evaluate = () => {
    lastEval = performance.now();
    lastEvalStep = steps;
    const valLoss = evaluator.loss(validation.text());
    if (valLoss === null) return;
    lastValLoss = valLoss;
    // The validation value rides on a history row that ends at this very step.
    flushRow();
    const row = history[history.length - 1];
    if (row) row.valLoss = valLoss;
    o.onEval?.({ step: base.step + steps, tokens: base.tokens + tokens, valLoss });
  };

  return new Promise<OnlineRunSummary>((resolve, reject) => {
    const subscription = new Subscription();
    let finished = false;
    o.onStart?.({ checkpoint: record, heldOut: () => validation.text() });
    const finish = (why: OnlineRunSummary['stoppedBy']) => {
      if (finished) return;
      finished = true;
      stoppedBy = why;
      subscription.unsubscribe();
      try {
        flushRow();
        if (steps > 0 && lastEvalStep !== steps) evaluate();
        save();
        const seconds = elapsed();
        const lastRow = [...history].reverse().find((h) => h.trainLoss !== undefined);
        resolve({
          steps: base.step + steps,
          tokens: base.tokens + tokens,
          seconds,
          charsPerSecond: tokens / Math.max(seconds, 1e-9),
          trainLoss: lastRow?.trainLoss ?? null,
          valLoss: lastValLoss,
          history,
          stoppedBy,
          checkpoint: record(),
        });
      } catch (e) {
        reject(e);
      }
    };
    const fail = (e: unknown) => {
      if (finished) return;
      finished = true;
      subscription.unsubscribe();
      reject(e);
    };

    // Text is cut into blocks; every holdOutEvery-th block becomes validation text, never trained on.
    const training = new Observable<string>((sub) => {
      let pending = '';
      let block = 0;
      const route = (text: string) => {
        if (holdOutEvery > 0 && block++ % holdOutEvery === holdOutEvery - 1) validation.add(text);
        else sub.next(text);
      };
      return o.source.subscribe({
        next: (chunk) => {
          pending += chunk;
          while (pending.length >= blockChars && !sub.closed) {
            route(pending.slice(0, blockChars));
            pending = pending.slice(blockChars);
          }
        },
        error: (e) => sub.error(e),
        complete: () => {
          if (pending) sub.next(pending);
          sub.complete();
        },
      });
    });

    subscription.add(
      training
        .pipe(trainOnline(model, { bptt, lr, maxGradNorm, optimizer, overflow: 'block', unknownChars: 'skip' }))
        .subscribe({
          next: (e) => {
            steps++;
            tokens = e.tokens;
            rowLoss += e.loss;
            rowCount++;
            if (rowCount >= logEvery) flushRow();
            const t = elapsed();
            ema = 0.95 * ema + 0.05 * e.loss;
            emaWeight = 0.95 * emaWeight + 0.05;
            o.onUpdate?.({
              smoothLoss: ema / emaWeight,
              ...e,
              totalSteps: base.step + steps,
              totalTokens: base.tokens + tokens,
              elapsed: t,
              charsPerSecond: tokens / Math.max(t, 1e-9),
              remaining: o.seconds === undefined ? null : Math.max(0, o.seconds - t),
            });
            try {
              const now = performance.now();
              if ((now - lastEval) / 1000 >= evalEvery) evaluate();
            } catch (err) {
              return fail(err);
            }
            if (o.seconds !== undefined && t >= o.seconds) finish('time');
            else if (o.maxSteps !== undefined && steps >= o.maxSteps) finish('steps');
          },
          error: fail,
          complete: () => finish('end'),
        }),
    );
    if (o.checkpointPath) {
      // On a clock, not on updates: a stream that pauses still gets what it taught saved.
      const saver = setInterval(() => {
        if (steps === savedSteps) return;
        try {
          save();
        } catch (err) {
          fail(err);
        }
      }, checkpointEvery * 1000);
      subscription.add(() => clearInterval(saver));
    }
    if (o.seconds !== undefined) {
      // Also stops a run whose source has gone quiet (stdin with nothing arriving).
      const timer = setTimeout(() => finish('time'), o.seconds * 1000);
      subscription.add(() => clearTimeout(timer));
    }
    if (o.signal) {
      if (o.signal.aborted) queueMicrotask(() => finish('abort'));
      const onAbort = () => finish('abort');
      o.signal.addEventListener('abort', onAbort, { once: true });
      subscription.add(() => o.signal!.removeEventListener('abort', onAbort));
    }
  });
}

/** History rows kept; a run that goes on for days halves its resolution instead of growing. */
const MAX_HISTORY = 4000;

/**
 * Merges neighbouring rows pairwise, in place: each pair becomes one row ending where the second
 * ended, with the mean of their train losses (both cover logEvery updates) and the later
 * validation value. The curve keeps its shape at half the resolution.
 */
export function thinHistory(history: HistoryEntry[]): void {
  const merged: HistoryEntry[] = [];
  for (let i = 0; i < history.length; i += 2) {
    const a = history[i]!;
    const b = history[i + 1];
    if (!b) {
      merged.push(a);
      continue;
    }
    const valLoss = b.valLoss ?? a.valLoss;
    const losses = [a.trainLoss, b.trainLoss].filter((x): x is number => x !== undefined);
    const { trainLoss: _a, valLoss: _b, ...rest } = b;
    merged.push({
      ...rest,
      ...(losses.length ? { trainLoss: losses.reduce((x, y) => x + y, 0) / losses.length } : {}),
      ...(valLoss === undefined ? {} : { valLoss }),
    });
  }
  history.splice(0, history.length, ...merged);
}

/** The most recent held-out text, at most `limit` characters. */
class HeldOut {
  private blocks: string[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  add(text: string): void {
    this.blocks.push(text);
    this.size += text.length;
    while (this.size - this.blocks[0]!.length >= this.limit) this.size -= this.blocks.shift()!.length;
  }
  text(): string {
    return this.blocks.join('').slice(-this.limit);
  }
}

/**
 * Validation loss on a twin of the model: the trainer's model keeps one scratch shape (T, B), so
 * evaluating with another batch shape on it would reallocate its buffers at every switch.
 */
class Evaluator {
  private twin: CharModel | null = null;
  private readonly index: Map<string, number>;
  constructor(
    private readonly model: CharModel,
    private readonly T: number,
  ) {
    this.index = new Map(model.config.vocab.map((c, i) => [c, i]));
  }

  /** Mean loss in nats/char over `text` (4 parallel streams, fresh state), or null if too short. */
  loss(text: string): number | null {
    const ids: number[] = [];
    for (const ch of text) {
      const id = this.index.get(ch);
      if (id !== undefined) ids.push(id);
    }
    const B = 4;
    const { T } = this;
    const perStream = Math.floor((ids.length - 1) / B);
    const windows = Math.floor(perStream / T);
    if (windows < 1) return null;
    this.twin ??= new CharModel(this.model.config);
    this.twin.params.set(this.model.params);
    const state = this.twin.createState(B);
    const inputs = new Int32Array(T * B);
    const targets = new Int32Array(T * B);
    let lossSum = 0;
    let count = 0;
    for (let w = 0; w < windows; w++) {
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const at = b * perStream + w * T + t;
          inputs[t * B + b] = ids[at]!;
          targets[t * B + b] = ids[at + 1]!;
        }
      }
      const r = this.twin.evaluate(inputs, targets, T, B, state);
      lossSum += r.lossSum;
      count += r.count;
    }
    return lossSum / count;
  }
}
