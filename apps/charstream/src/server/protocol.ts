// Messages between the serve command's main thread and its training worker. Plain data and
// typed arrays only (structured clone); weights travel as a transferred Float32Array copy.
import type { ResolvedCharModelConfig } from '@rxrnn/cells';
import type { HistoryEntry } from '@rxrnn/trainer/node';

/** workerData of the training worker. */
export interface TrainingWorkerData {
  /** Text to learn from, replayed in a loop as a stream. */
  text: string;
  /** What the text is, for /api/status ("built-in corpus", a file name). */
  sourceName: string;
  /** A new model from this config, or (if set) continue from these checkpoint bytes. */
  config: ResolvedCharModelConfig | null;
  resume: Uint8Array | null;
  bptt: number;
  lr: number;
  /** Write checkpoints here every checkpointEvery seconds and at the stop. */
  checkpointPath: string | null;
  checkpointEvery: number;
  /** Seconds between weight publications and between update messages. */
  publishEvery: number;
  updateEvery: number;
}

/** One point of the training curve: mean loss since the previous point, nats/char. */
export interface TrainingPoint {
  step: number;
  tokens: number;
  loss: number;
  bpc: number;
  charsPerSecond: number;
  gradNorm: number;
  elapsed: number;
}

export type WorkerMessage =
  | {
      type: 'ready';
      config: ResolvedCharModelConfig;
      paramCount: number;
      history: HistoryEntry[];
      step: number;
      tokens: number;
    }
  | { type: 'update'; point: TrainingPoint }
  | { type: 'eval'; step: number; tokens: number; valLoss: number }
  | { type: 'weights'; step: number; tokens: number; params: Float32Array }
  | { type: 'checkpoint'; id: number; bytes: Uint8Array }
  | { type: 'saved'; path: string; bytes: number }
  | { type: 'done'; steps: number; tokens: number; seconds: number }
  | { type: 'error'; message: string };

export type MainMessage = { type: 'checkpoint'; id: number } | { type: 'stop' };
