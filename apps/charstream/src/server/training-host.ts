// The main-thread side of the training worker: starts it (from TypeScript source through tsx, or
// built JavaScript), keeps the latest status, a bounded curve and a live generation model with the
// latest weights and the latest gradient flow, and fans events out to listeners (the SSE clients).
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { CharModel, type ResolvedCharModelConfig } from '@rxrnn/cells';
import type { FlowSnapshot, MainMessage, TrainingPoint, TrainingWorkerData, WorkerMessage } from './protocol.js';

/** Most curve points kept for late joiners; older ones are thinned out (every other one dropped). */
const MAX_POINTS = 2000;

export interface EvalPoint {
  step: number;
  tokens: number;
  valLoss: number;
}

/** What the HTTP layer needs from training: config, model, status, curve, events, checkpoints. */
export interface TrainingSource extends EventEmitter {
  readonly config: ResolvedCharModelConfig;
  /** The generation model, updated with each weights publication. */
  readonly model: CharModel;
  readonly weightsStep: number;
  readonly points: readonly TrainingPoint[];
  readonly evals: readonly EvalPoint[];
  /** The latest gradient flow of the training model on held-out text, or null before the first. */
  readonly flow: FlowSnapshot | null;
  status(): Record<string, unknown>;
  /** Latest weights as published (a copy the caller may keep). */
  weights(): { step: number; params: Float32Array };
  checkpoint(): Promise<Uint8Array>;
}

export class TrainingHost extends EventEmitter implements TrainingSource {
  config!: ResolvedCharModelConfig;
  model!: CharModel;
  weightsStep = 0;
  weightsTokens = 0;
  points: TrainingPoint[] = [];
  evals: EvalPoint[] = [];
  flow: FlowSnapshot | null = null;
  /** θ of the training updates' global-norm clipping. */
  clipThreshold = 0;
  private last: TrainingPoint | null = null;
  private running = true;
  private error: string | null = null;
  private readonly started = performance.now();
  private nextId = 1;
  private readonly waiting = new Map<number, (bytes: Uint8Array) => void>();
  private lastSaved: { path: string; bytes: number; at: string } | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly sourceName: string,
  ) {
    super();
  }

  /** Starts the worker and resolves once it has built its model and published the first weights. */
  static start(data: TrainingWorkerData): Promise<TrainingHost> {
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(fromSource ? './training-worker-boot.mjs' : './training-worker.js', import.meta.url);
    const worker = new Worker(url, {
      workerData: data,
      // Source runs need the condition that maps @rxrnn/* to src/index.ts (the boot file adds tsx).
      execArgv: fromSource ? ['--conditions=@rxrnn/source'] : [],
    });
    const host = new TrainingHost(worker, data.sourceName);
    host.clipThreshold = data.maxGradNorm;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: WorkerMessage) => {
        host.handle(m);
        if (!ready && m.type === 'weights') {
          ready = true;
          resolve(host);
        }
        if (!ready && m.type === 'error') reject(new Error(m.message));
      });
      worker.on('error', (e) => {
        host.running = false;
        host.error = e.message;
        if (!ready) reject(e);
        else host.emit('error-event', e.message);
      });
      worker.on('exit', () => {
        host.running = false;
        if (!ready) reject(new Error('training worker exited before it was ready'));
        host.emit('exit');
      });
    });
  }

  private handle(m: WorkerMessage): void {
    switch (m.type) {
      case 'ready':
        this.config = m.config;
        this.model = new CharModel(m.config);
        this.weightsStep = m.step;
        this.weightsTokens = m.tokens;
        // A resumed run's history seeds the curve, so the chart starts where the run left off.
        this.points = m.history
          .filter((h) => h.trainLoss !== undefined)
          .map((h) => ({
            step: h.step,
            tokens: h.tokens,
            loss: h.trainLoss!,
            bpc: h.trainLoss! / Math.LN2,
            charsPerSecond: 0,
            gradNorm: 0,
            clipped: 0,
            peakGradNorm: 0,
            elapsed: 0,
          }));
        this.evals = m.history
          .filter((h) => h.valLoss !== undefined)
          .map((h) => ({ step: h.step, tokens: h.tokens, valLoss: h.valLoss! }));
        break;
      case 'update':
        this.last = m.point;
        this.points.push(m.point);
        if (this.points.length > MAX_POINTS) this.points = this.points.filter((_, i) => i % 2 === 1);
        this.emit('update', m.point);
        break;
      case 'eval':
        this.evals.push({ step: m.step, tokens: m.tokens, valLoss: m.valLoss });
        if (this.evals.length > MAX_POINTS) this.evals = this.evals.filter((_, i) => i % 2 === 1);
        this.emit('eval', m);
        break;
      case 'weights':
        this.model.params.set(m.params);
        this.weightsStep = m.step;
        this.weightsTokens = m.tokens;
        this.emit('weights', m.step);
        break;
      case 'flow':
        this.flow = m.flow;
        this.emit('flow', m.flow);
        break;
      case 'checkpoint':
        this.waiting.get(m.id)?.(m.bytes);
        this.waiting.delete(m.id);
        break;
      case 'saved':
        this.lastSaved = { path: m.path, bytes: m.bytes, at: new Date().toISOString() };
        break;
      case 'done':
        this.running = false;
        this.emit('done', m);
        break;
      case 'error':
        this.running = false;
        this.error = m.message;
        this.emit('error-event', m.message);
        break;
    }
  }

  status(): Record<string, unknown> {
    const c = this.config;
    const last = this.last;
    const lastEval = this.evals[this.evals.length - 1];
    return {
      model: {
        cell: c.cell,
        hidden: c.hidden,
        layers: c.layers,
        embedding: c.embeddingDim,
        vocabSize: c.vocab.length,
        params: this.model.params.length,
      },
      training: {
        running: this.running,
        error: this.error,
        source: this.sourceName,
        step: last?.step ?? this.weightsStep,
        tokens: last?.tokens ?? this.weightsTokens,
        loss: last?.loss ?? null,
        bpc: last?.bpc ?? null,
        valLoss: lastEval?.valLoss ?? null,
        charsPerSecond: last?.charsPerSecond ?? 0,
        usPerChar: last && last.charsPerSecond > 0 ? 1e6 / last.charsPerSecond : null,
        weightsStep: this.weightsStep,
        clipThreshold: this.clipThreshold,
        lastCheckpoint: this.lastSaved,
      },
      uptime: (performance.now() - this.started) / 1000,
    };
  }

  weights(): { step: number; params: Float32Array } {
    return { step: this.weightsStep, params: this.model.params.slice() };
  }

  /** A checkpoint of the run right now, encoded by the worker. */
  checkpoint(): Promise<Uint8Array> {
    if (!this.running) return Promise.reject(new Error('training is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('the training worker did not answer the checkpoint request'));
      }, 30_000);
      this.waiting.set(id, (bytes) => {
        clearTimeout(timer);
        resolve(bytes);
      });
      this.post({ type: 'checkpoint', id });
    });
  }

  /** Asks the worker to stop (it saves its final checkpoint), waits for it, then ends the thread. */
  async stop(): Promise<void> {
    if (this.running) {
      const done = new Promise<void>((resolve) => {
        this.once('done', () => resolve());
        this.once('error-event', () => resolve());
        this.once('exit', () => resolve());
      });
      this.post({ type: 'stop' });
      await done;
    }
    await this.worker.terminate();
  }

  private post(m: MainMessage): void {
    this.worker.postMessage(m);
  }
}
