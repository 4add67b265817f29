// Messages between the serve command's main thread and its training worker. Plain data and
// typed arrays only (structured clone); weights travel as a transferred Float32Array copy.
import type { CellKind, ResolvedCharModelConfig } from '@rxrnn/cells';
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
  /** Global-norm clipping threshold θ of the training updates. */
  maxGradNorm: number;
  /** T of the gradient-flow measurement (a window of held-out text), taken with each weights publication. */
  flowWindow: number;
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
  /** Updates since the previous point whose gradient was clipped (pre-clip norm above θ). */
  clipped: number;
  /** Largest pre-clip gradient norm since the previous point. */
  peakGradNorm: number;
  elapsed: number;
}

/**
 * The training model's gradient flow (gradientFlow of @rxrnn/cells) on one fixed window of
 * held-out text, measured with the weights of a publication.
 */
export interface FlowSnapshot {
  /** Training step and characters of the weights measured. */
  step: number;
  tokens: number;
  cell: CellKind;
  /** Characters in the window: k = 0 … T−1. */
  T: number;
  /** Per layer (0 first): h[k] = ‖∂L_T/∂h_(T−k)‖, and c[k] = ‖∂L_T/∂c_(T−k)‖ for an LSTM (else null). */
  layers: { h: number[]; c: number[] | null }[];
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
  | { type: 'flow'; flow: FlowSnapshot }
  | { type: 'checkpoint'; id: number; bytes: Uint8Array }
  | { type: 'saved'; path: string; bytes: number }
  | { type: 'done'; steps: number; tokens: number; seconds: number }
  | { type: 'error'; message: string };

export type MainMessage = { type: 'checkpoint'; id: number } | { type: 'stop' };
