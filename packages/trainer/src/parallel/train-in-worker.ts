// trainInWorker(options): runs trainOffline in a worker thread (so a server or page stays live)
// and streams its progress, evaluations and parameter snapshots as an Observable. Unsubscribing
// asks the worker to stop (it finishes the update, saves if a checkpoint path was given, exits).
import { Observable } from 'rxjs';
import type { Checkpoint } from '../checkpoint.js';
import { spawnWorker } from '../internal/spawn-worker.js';
import type { CharModelConfig } from '../model.js';
import type { OfflineTrainingOptions } from '../offline-trainer.js';
import type { EvalReport, TrainProgress, TrainSummary } from '../train-offline.js';

/** Options of {@link trainInWorker}: the offline training options plus what the worker needs. */
export interface TrainInWorkerOptions extends OfflineTrainingOptions {
  /** Config of a fresh model to train (ignored when `resume` is given). */
  model?: CharModelConfig;
  /** The corpus to train on. */
  text: string;
  /** Continue from this checkpoint instead of a fresh model. */
  resume?: Checkpoint;
  /** Stop after this many updates in total. */
  maxSteps?: number;
  /** Stop after this many seconds. */
  seconds?: number;
  /** Write checkpoints here (atomically), periodically and at the end. */
  checkpointPath?: string;
  /** Seconds between periodic checkpoints; default 60. */
  checkpointEvery?: number;
  /** Milliseconds between progress events. Default 250. */
  progressInterval?: number;
  /** Milliseconds between parameter snapshots (0 = only at the end). Default 2000. */
  snapshotInterval?: number;
}

/** A progress report of the training loop (as trainOffline's onProgress). */
export interface WorkerProgressEvent extends TrainProgress {
  /** Tags the event. */
  type: 'progress';
}

/** A held-out evaluation (as trainOffline's onEval). */
export interface WorkerEvalEvent extends EvalReport {
  /** Tags the event. */
  type: 'eval';
}

/** A copy of the parameters (owned by the receiver), e.g. for a generator sharing the model config. */
export interface WorkerSnapshotEvent {
  /** Tags the event. */
  type: 'snapshot';
  /** The update the parameters are from. */
  step: number;
  /** The flat parameter buffer. */
  params: Float32Array;
}

/** The end of training. */
export interface WorkerDoneEvent {
  /** Tags the event. */
  type: 'done';
  /** What trainOffline returns. */
  summary: TrainSummary;
}

/** What {@link trainInWorker} emits. */
export type TrainWorkerEvent = WorkerProgressEvent | WorkerEvalEvent | WorkerSnapshotEvent | WorkerDoneEvent;

/**
 * The whole offline training loop in a worker thread, as a cold Observable of its events: progress,
 * evaluations, parameter snapshots and the final summary. Unsubscribing stops the worker.
 *
 * @throws TypeError/RangeError for bad options (synchronously).
 * @example
 * ```ts
 * import { filter, lastValueFrom } from 'rxjs';
 * import { trainInWorker } from '@rxrnn/trainer/node';
 * const text = 'the cat sat on the mat. '.repeat(40);
 * const vocab = [...new Set(text)].sort();
 * const events = trainInWorker({ model: { cell: 'gru', vocab, hidden: 16 }, text, maxSteps: 5, batchSize: 4, bptt: 16 });
 * const done = await lastValueFrom(events.pipe(filter((e) => e.type === 'done')));
 * console.log(done.summary.steps); // 5
 * ```
 */
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
