// trainInWorker(options): runs trainOffline in a worker thread (so a server or page stays live)
// and streams its progress, evaluations and parameter snapshots as an Observable. Unsubscribing
// asks the worker to stop (it finishes the update, saves if a checkpoint path was given, exits).
import { Observable } from 'rxjs';
import type { Checkpoint } from '../checkpoint.js';
import { spawnWorker } from '../internal/spawn-worker.js';
import type { CharModelConfig } from '../model.js';
import type { OfflineTrainingOptions } from '../offline-trainer.js';
import type { EvalReport, TrainProgress, TrainSummary } from '../train-offline.js';

export interface TrainInWorkerOptions extends OfflineTrainingOptions {
  /** Config of a fresh model to train (ignored when `resume` is given). */
  model?: CharModelConfig;
  text: string;
  resume?: Checkpoint;
  maxSteps?: number;
  seconds?: number;
  checkpointPath?: string;
  checkpointEvery?: number;
  /** Milliseconds between progress events. Default 250. */
  progressInterval?: number;
  /** Milliseconds between parameter snapshots (0 = only at the end). Default 2000. */
  snapshotInterval?: number;
}

export type TrainWorkerEvent =
  | ({ type: 'progress' } & TrainProgress)
  | ({ type: 'eval' } & EvalReport)
  /** A copy of the parameters (owned by the receiver), e.g. for a generator sharing the model config. */
  | { type: 'snapshot'; step: number; params: Float32Array }
  | { type: 'done'; summary: TrainSummary };

export function trainInWorker(options: TrainInWorkerOptions): Observable<TrainWorkerEvent> {
  if (!options || typeof options.text !== 'string')
    throw new TypeError(`trainInWorker: options.text must be a string, got ${typeof options?.text}`);
  if (!options.model && !options.resume)
    throw new TypeError('trainInWorker: give options.model (a CharModelConfig) or options.resume');
  return new Observable<TrainWorkerEvent>((subscriber) => {
    const worker = spawnWorker(import.meta.url, './train-worker-main', options);
    let finished = false;
    worker.on('message', (m: TrainWorkerEvent | { type: 'error'; message: string; name: string }) => {
      if (m.type === 'error') {
        finished = true;
        const E = m.name === 'RangeError' ? RangeError : m.name === 'TypeError' ? TypeError : Error;
        subscriber.error(new E(`trainInWorker: ${m.message}`));
        return;
      }
      subscriber.next(m);
      if (m.type === 'done') {
        finished = true;
        subscriber.complete();
      }
    });
    worker.on('error', (e) => {
      finished = true;
      subscriber.error(e);
    });
    worker.on('exit', (code) => {
      if (!finished) subscriber.error(new Error(`trainInWorker: worker exited with code ${code} before finishing`));
    });
    return () => {
      // Ask for a clean stop (the worker saves its checkpoint and exits on its own).
      if (!finished) worker.postMessage({ type: 'stop' });
    };
  });
}
