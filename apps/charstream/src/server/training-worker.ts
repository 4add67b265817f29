// Worker-thread entry of `serve`: online training over the source text in a loop (runOnline), so
// the server's event loop stays free for HTTP. Publishes throttled updates (with clipping counts),
// evaluations, weight snapshots and, with each snapshot, the gradient flow on a held-out window;
// answers checkpoint requests; on 'stop' saves a final checkpoint and says 'done'.
import { parentPort, workerData } from 'node:worker_threads';
import { CharModel, gradientFlow } from '@rxrnn/cells';
import {
  type Checkpoint,
  createOptimizer,
  decodeCheckpoint,
  encodeCheckpoint,
  type Optimizer,
} from '@rxrnn/trainer/node';
import { modelFromCheckpoint, optimizerFromState } from '../model-io.js';
import { runOnline } from '../online-run.js';
import { textChunks } from '../text-source.js';
import type { FlowSnapshot, MainMessage, TrainingWorkerData, WorkerMessage } from './protocol.js';

const port = parentPort!;
const data = workerData as TrainingWorkerData;
const post = (m: WorkerMessage, transfer: Transferable[] = []) => port.postMessage(m, transfer as never);

async function main(): Promise<void> {
  let model: CharModel;
  let resume: Checkpoint | undefined;
  let optimizer: Optimizer;
  if (data.resume) {
    resume = decodeCheckpoint(data.resume);
    model = modelFromCheckpoint(resume).model;
    optimizer = optimizerFromState(resume.optimizer, model.params.length);
  } else {
    model = new CharModel(data.config!);
    optimizer = createOptimizer({ kind: 'adam' }, model.params.length);
  }
  const controller = new AbortController();
  let snapshot: (() => Checkpoint) | null = null;
  port.on('message', (m: MainMessage) => {
    if (m.type === 'stop') controller.abort();
    else if (m.type === 'checkpoint' && snapshot) {
      const bytes = encodeCheckpoint(snapshot());
      post({ type: 'checkpoint', id: m.id, bytes }, [bytes.buffer]);
    }
  });
  post({
    type: 'ready',
    config: model.config,
    paramCount: model.params.length,
    history: resume?.history ?? [],
    step: resume?.counters.step ?? 0,
    tokens: resume?.counters.tokens ?? 0,
  });

  // Updates are averaged over updateEvery seconds: a page needs a curve, not 200 messages a second.
  let lastUpdate = 0;
  let lastPublish = -Infinity;
  let sum = 0;
  let n = 0;
  let clipped = 0;
  let peak = 0;
  let heldOut: (() => string) | null = null;
  const flow = new FlowProbe(model, data.flowWindow);
  const publish = (step: number, tokens: number) => {
    const params = model.params.slice();
    post({ type: 'weights', step, tokens, params }, [params.buffer]);
    const f = heldOut ? flow.measure(heldOut(), step, tokens) : null;
    if (f) post({ type: 'flow', flow: f });
  };
  const summary = await runOnline({
    model,
    optimizer,
    source: textChunks(data.text, { chunkChars: 256, loop: true }),
    bptt: data.bptt,
    lr: data.lr,
    maxGradNorm: data.maxGradNorm,
    signal: controller.signal,
    resume,
    checkpointPath: data.checkpointPath ?? undefined,
    checkpointEvery: data.checkpointEvery,
    training: { source: data.sourceName },
    evalEvery: 10,
    onStart: (run) => {
      snapshot = run.checkpoint;
      heldOut = run.heldOut;
      publish(resume?.counters.step ?? 0, resume?.counters.tokens ?? 0);
    },
    onUpdate: (u) => {
      sum += u.loss;
      n++;
      if (u.clipped) clipped++;
      peak = Math.max(peak, u.gradNorm);
      if (u.elapsed - lastUpdate >= data.updateEvery) {
        lastUpdate = u.elapsed;
        const loss = sum / n;
        sum = 0;
        n = 0;
        const point = { clipped, peakGradNorm: peak };
        clipped = 0;
        peak = 0;
        post({
          type: 'update',
          point: {
            step: u.totalSteps,
            tokens: u.totalTokens,
            loss,
            bpc: loss / Math.LN2,
            charsPerSecond: u.charsPerSecond,
            gradNorm: u.gradNorm,
            ...point,
            elapsed: u.elapsed,
          },
        });
      }
      if (u.elapsed - lastPublish >= data.publishEvery) {
        lastPublish = u.elapsed;
        publish(u.totalSteps, u.totalTokens);
      }
    },
    onEval: (e) => post({ type: 'eval', ...e }),
    onCheckpoint: (path, bytes) => post({ type: 'saved', path, bytes }),
  });
  post({ type: 'done', steps: summary.steps, tokens: summary.tokens, seconds: summary.seconds });
}

/**
 * The gradient flow of the training model on one fixed window of held-out text (the first T + 1
 * known characters that were held out), measured on a twin so the trainer's buffers stay put.
 */
class FlowProbe {
  private twin: CharModel | null = null;
  private window: Int32Array | null = null;
  private readonly index: Map<string, number>;

  constructor(
    private readonly model: CharModel,
    private readonly T: number,
  ) {
    this.index = new Map(model.config.vocab.map((c, i) => [c, i]));
  }

  /** The flow with the current weights, or null while fewer than T + 1 characters are held out. */
  measure(heldOut: string, step: number, tokens: number): FlowSnapshot | null {
    if (this.window === null) {
      const ids: number[] = [];
      for (const ch of heldOut) {
        const id = this.index.get(ch);
        if (id !== undefined) ids.push(id);
        if (ids.length === this.T + 1) break;
      }
      if (ids.length < this.T + 1) return null;
      this.window = Int32Array.from(ids);
    }
    this.twin ??= new CharModel(this.model.config);
    this.twin.params.set(this.model.params);
    const f = gradientFlow(this.twin, this.window);
    return {
      step,
      tokens,
      cell: this.model.config.cell,
      T: this.T,
      layers: f.layers.map((l) => ({ h: Array.from(l.h), c: l.c ? Array.from(l.c) : null })),
    };
  }
}

main().catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
