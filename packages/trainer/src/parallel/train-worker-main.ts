// Worker-thread entry of trainInWorker: builds the model, runs trainOfflineToFile with the options it
// was given, posts progress/eval/snapshot/done messages, and stops cleanly on {type: 'stop'}.
import { parentPort, workerData } from 'node:worker_threads';
import { createCharModel } from '../model.js';
import { trainOfflineToFile } from '../node.js';
import type { TrainInWorkerOptions } from './train-in-worker.js';

const opts = workerData as TrainInWorkerOptions;
const port = parentPort!;
const abort = new AbortController();
port.on('message', (m: { type?: string }) => {
  if (m?.type === 'stop') abort.abort();
});

const snapshotInterval = opts.snapshotInterval ?? 2000;
let lastSnapshot = performance.now();
try {
  const model = opts.resume ? undefined : createCharModel(opts.model!);
  let params: Float32Array | null = model?.params ?? null;
  const summary = await trainOfflineToFile({
    ...opts,
    model,
    signal: abort.signal,
    onStart: (tr) => {
      params = tr.model.params;
    },
    onProgress: (p) => {
      port.postMessage({ type: 'progress', ...p });
      const now = performance.now();
      if (snapshotInterval > 0 && params && now - lastSnapshot >= snapshotInterval) {
        lastSnapshot = now;
        const copy = params.slice();
        port.postMessage({ type: 'snapshot', step: p.step, params: copy }, [copy.buffer]);
      }
    },
    onEval: (e) => port.postMessage({ type: 'eval', ...e }),
  });
  const final = summary.checkpoint.best?.params ?? summary.checkpoint.params;
  port.postMessage({ type: 'snapshot', step: summary.steps, params: final.slice() });
  port.postMessage({ type: 'done', summary });
} catch (e) {
  port.postMessage({ type: 'error', name: (e as Error)?.name ?? 'Error', message: String((e as Error)?.message ?? e) });
}
port.close();
