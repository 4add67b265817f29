// The peer benchmark's workloads (A streaming step, B training, C batched inference, D generation):
// their sizes, their time budgets (full and --quick), and the record every implementation emits.
// Dimension names follow docs/contracts.md: n_x input, H hidden, V vocabulary, B batch, T steps.

/** rxrnn runs on its default backend (native in Node where the addon loads); rxrnn-wasm on wasm. */
export type Impl =
  | 'rxrnn'
  | 'rxrnn-wasm'
  | 'tfjs-cpu'
  | 'tfjs-wasm'
  | 'tfjs-wasm-threads'
  | 'brain.js'
  | 'ort-node'
  | 'ort-web';
export type Workload = 'A' | 'B' | 'C' | 'D';
export type CellKind = 'rnn' | 'gru' | 'lstm';

export const IMPLS: readonly Impl[] = [
  'rxrnn',
  'rxrnn-wasm',
  'tfjs-wasm',
  'tfjs-wasm-threads',
  'tfjs-cpu',
  'brain.js',
  'ort-node',
  'ort-web',
];
export const WORKLOADS: readonly Workload[] = ['A', 'B', 'C', 'D'];

/** A: one step at batch 1, state carried between steps; µs per step. */
export const A = { cells: ['lstm', 'gru', 'rnn'] as CellKind[], hidden: [128, 256, 512], n_x: 64 };
/** B: char-LM training (embedding → cell → dense → softmax CE), Adam, global-norm clip 5. */
export const B = {
  cells: ['lstm', 'gru'] as CellKind[],
  V: 65,
  E: 64,
  hidden: 256,
  T: 64,
  batch: 32,
  lr: 2e-3,
  clip: 5,
};
/** C: forward over a [T, B, n_x] window, LSTM; timesteps·batch per second. */
export const C = { cell: 'lstm' as CellKind, hidden: 512, batch: 64, T: 64, n_x: 64 };
/** D: sampling from a 2-layer LSTM char model (embedding E, dense V), temperature 1; chars/s. */
export const D = { cell: 'lstm' as CellKind, V: 65, E: 64, hidden: 256, layers: 2 };

/** How long to measure in one child (one round): warm up for warmupMs, then `runs` runs of about targetMs. */
export interface Budget {
  warmupMs: number;
  targetMs: number;
  runs: number;
}

export function budget(workload: Workload, quick: boolean): Budget {
  // --quick is a smoke run: one short warm-up, few short runs; its numbers are indicative only.
  if (quick)
    return workload === 'A' ? { warmupMs: 60, targetMs: 40, runs: 3 } : { warmupMs: 0, targetMs: 150, runs: 1 };
  if (workload === 'A') return { warmupMs: 200, targetMs: 250, runs: 3 };
  return { warmupMs: 500, targetMs: 1000, runs: 1 };
}

/** One measurement; `value` is the median over `runs` runs (min and max alongside). */
export interface PeerRecord {
  suite: 'peers';
  impl: Impl;
  form: string;
  workload: Workload;
  cell: CellKind;
  hidden: number;
  inputSize?: number;
  batch?: number;
  T?: number;
  layers?: number;
  vocab?: number;
  unit: 'us/step' | 'chars/s' | 'steps*batch/s';
  value?: number;
  min?: number;
  max?: number;
  runs?: number;
  /** every run's value, over all rounds (value is their median) */
  samples?: number[];
  /** parameters of the model measured (same-size check across implementations) */
  params?: number;
  /** units of work (steps, chars…) in each timed run */
  work?: number;
  /** set instead of value when the implementation failed to load or to run */
  error?: string;
  /** set instead of value when the implementation does not offer the workload */
  skipped?: string;
  notes?: string;
}

/** A ratio record: how many times faster rxrnn is than `vs` on one workload configuration. */
export interface RatioRecord {
  suite: 'peers';
  ratio: number;
  workload: Workload;
  cell: CellKind;
  hidden: number;
  form: string;
  /** Threads rxrnn's form ran on (forms named …-2t use two). */
  threads: 1 | 2;
  vs: Impl;
  vsForm: string;
  vsThreads: 1 | 2;
}

/** What a record's configuration is, without impl and form: rows of the table, keys of ratios. */
export function configKey(r: Pick<PeerRecord, 'workload' | 'cell' | 'hidden'>): string {
  return `${r.workload} ${r.cell}-${r.hidden}`;
}

/** True when larger values are better for the unit. */
export function higherIsBetter(unit: PeerRecord['unit']): boolean {
  return unit !== 'us/step';
}

export type Emit = (record: Omit<PeerRecord, 'suite' | 'impl'>) => void;

/** Each workload's unit. */
export const UNIT: Record<Workload, PeerRecord['unit']> = {
  A: 'us/step',
  B: 'chars/s',
  C: 'steps*batch/s',
  D: 'chars/s',
};

/** A record's configuration fields, before measurement. */
export type RecordBase = Omit<PeerRecord, 'suite' | 'impl' | 'unit'>;

/** Runs one measurement; a failure becomes an error record for that configuration only. */
export async function guarded(
  emit: Emit,
  base: RecordBase,
  measure: () => Promise<Partial<PeerRecord>>,
): Promise<void> {
  const unit = UNIT[base.workload];
  try {
    emit({ ...base, unit, ...(await measure()) });
  } catch (e) {
    emit({ ...base, unit, error: e instanceof Error ? e.message : String(e) });
  }
}

/** What an implementation module offers: run one workload, emitting one record per configuration. */
export type RunWorkload = (workload: Workload, quick: boolean, emit: Emit) => Promise<void>;
