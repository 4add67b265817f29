// Worker-thread entry of `serve`: online training over the source text in a loop (runOnline), so
// the server's event loop stays free for HTTP. Publishes throttled updates, evaluations and weight
// snapshots; answers checkpoint requests; on 'stop' saves a final checkpoint and says 'done'.
import { parentPort, workerData } from 'node:worker_threads';
import { CharModel } from '@rxrnn/cells';
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
import type { MainMessage, TrainingWorkerData, WorkerMessage } from './protocol.js';

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
  const publish = (step: number, tokens: number) => {
    const params = model.params.slice();
    post({ type: 'weights', step, tokens, params }, [params.buffer]);
  };
  const summary = await runOnline({
    model,
    optimizer,
    source: textChunks(data.text, { chunkChars: 256, loop: true }),
    bptt: data.bptt,
    lr: data.lr,
    signal: controller.signal,
    resume,
    checkpointPath: data.checkpointPath ?? undefined,
    checkpointEvery: data.checkpointEvery,
    training: { source: data.sourceName },
    evalEvery: 10,
    onStart: (run) => {
      snapshot = run.checkpoint;
      publish(resume?.counters.step ?? 0, resume?.counters.tokens ?? 0);
    },
    onUpdate: (u) => {
      sum += u.loss;
      n++;
      if (u.elapsed - lastUpdate >= data.updateEvery) {
        lastUpdate = u.elapsed;
        const loss = sum / n;
        sum = 0;
        n = 0;
        post({
          type: 'update',
          point: {
            step: u.totalSteps,
            tokens: u.totalTokens,
            loss,
            bpc: loss / Math.LN2,
            charsPerSecond: u.charsPerSecond,
            gradNorm: u.gradNorm,
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

main().catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
