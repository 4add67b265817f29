// brain.js side of the peer benchmark: its recurrent nets (recurrent.RNN / GRU / LSTM) are batch-1
// character models built from per-position "equations"; we drive them through their own methods
// (Equation.runIndex, trainPattern, run). brain.js's RNN is ReLU (it has no tanh RNN).
import { createRequire } from 'node:module';
import { randomIds, summarize, timeRuns } from './measure.js';
import { A, B, budget, type CellKind, D, type Emit, guarded, type RunWorkload, type Workload } from './workloads.js';

// The parts of brain.js's recurrent net that the benchmark drives (its typings keep them internal).
interface BrainEquation {
  runIndex(row: number): unknown;
}
interface BrainNet {
  options: Record<string, unknown>;
  model: { equations: BrainEquation[]; allMatrices: { rows: number; columns: number }[] };
  mapModel(): BrainNet['model'];
  bindEquation(): void;
  trainPattern(input: number[], logErrorRate?: boolean): number;
  run(rawInput?: string, isSampleI?: boolean, temperature?: number): string;
}
type BrainCtor = new (options: Record<string, unknown>) => BrainNet;
interface Brain {
  recurrent: { RNN: BrainCtor; GRU: BrainCtor; LSTM: BrainCtor };
  utilities: { DataFormatter: new (values: string[]) => unknown };
}

function loadBrain(): Brain {
  return createRequire(import.meta.url)('brain.js') as Brain;
}

/**
 * Builds a net whose input is an embedding of `inputSize` columns over `inputRange` ids. brain.js's
 * initialize() would overwrite the sizes from a data formatter, so the model is mapped directly.
 */
function makeNet(
  brain: Brain,
  kind: CellKind,
  o: {
    inputSize: number;
    inputRange: number;
    hidden: number[];
    outputSize: number;
    formatter?: unknown;
    maxPredictionLength?: number;
  },
): BrainNet {
  const Ctor = kind === 'lstm' ? brain.recurrent.LSTM : kind === 'gru' ? brain.recurrent.GRU : brain.recurrent.RNN;
  const net = new Ctor({
    inputSize: o.inputSize,
    inputRange: o.inputRange,
    hiddenLayers: o.hidden,
    outputSize: o.outputSize,
    ...(o.formatter ? { dataFormatter: o.formatter } : {}),
    ...(o.maxPredictionLength ? { maxPredictionLength: o.maxPredictionLength } : {}),
  });
  net.model = net.mapModel();
  return net;
}

/** Parameters of a brain.js net, its output layer included. */
const paramsOf = (net: BrainNet): number => net.model.allMatrices.reduce((n, m) => n + m.rows * m.columns, 0);

export const brainRunner: RunWorkload = async (workload: Workload, quick: boolean, emit: Emit) => {
  const brain = loadBrain();
  const bud = budget(workload, quick);
  if (workload === 'A') {
    // One equation per position: a 64-position chain carries the state; after 64 steps the
    // chain starts again from zeros (same arithmetic per step). The output layer is 2×H (tiny).
    const chain = 64;
    for (const cell of A.cells) {
      for (const H of A.hidden) {
        const base = {
          workload,
          cell,
          hidden: H,
          inputSize: A.n_x,
          batch: 1,
          form: 'equation',
          notes: `Equation.runIndex per step${cell === 'rnn' ? '; ReLU RNN (brain.js has no tanh RNN)' : ''}`,
        };
        await guarded(emit, base, async () => {
          const net = makeNet(brain, cell, { inputSize: A.n_x, inputRange: 1, hidden: [H], outputSize: 1 });
          for (let k = 0; k < chain; k++) net.bindEquation();
          const eqs = net.model.equations;
          let pos = 0;
          const t = await timeRuns((n) => {
            for (let k = 0; k < n; k++) {
              eqs[pos]!.runIndex(1);
              pos = (pos + 1) % chain;
            }
          }, bud);
          return { ...summarize(t, 'us/step', 1), params: paramsOf(net) };
        });
      }
    }
  } else if (workload === 'B') {
    // trainPattern = forward over T+1 positions, backprop, and brain.js's only update rule
    // (RMSprop-style with per-value clipping at 5): no Adam, no global-norm clipping, batch 1.
    for (const cell of quick ? B.cells.slice(0, 1) : B.cells) {
      const base = {
        workload,
        cell,
        hidden: B.hidden,
        inputSize: B.E,
        batch: 1,
        T: B.T,
        vocab: B.V,
        form: 'trainPattern',
        notes: 'batch 1; built-in RMSprop + per-value clip 5 (no Adam / global-norm clip)',
      };
      await guarded(emit, base, async () => {
        const net = makeNet(brain, cell, { inputSize: B.E, inputRange: B.V, hidden: [B.hidden], outputSize: B.V });
        const seqs = Array.from({ length: 8 }, (_, k) => Array.from(randomIds(B.T, B.V, 100 + k)));
        let s = 0;
        const t = await timeRuns((n) => {
          for (let k = 0; k < n; k++) net.trainPattern(seqs[s++ % seqs.length]!);
        }, bud);
        return { ...summarize(t, 'chars/s', B.T), params: paramsOf(net) };
      });
    }
  } else if (workload === 'C') {
    emit({
      workload,
      cell: 'lstm',
      hidden: 512,
      form: 'none',
      unit: 'steps*batch/s',
      skipped: 'brain.js recurrent nets have no batched forward (batch 1 only)',
    });
  } else {
    // run('', true) samples until END (id 0) or maxPredictionLength; we count the chars it returns.
    const base = {
      workload,
      cell: D.cell,
      hidden: D.hidden,
      inputSize: D.E,
      layers: D.layers,
      vocab: D.V,
      batch: 1,
      form: 'run',
      notes: "net.run('', true): sampling included; restarts from zero state when it samples END",
    };
    await guarded(emit, base, async () => {
      const chars = Array.from({ length: D.V }, (_, k) => String.fromCharCode(32 + k));
      const formatter = new brain.utilities.DataFormatter(chars);
      const maxLen = 256;
      const net = makeNet(brain, D.cell, {
        inputSize: D.E,
        inputRange: D.V,
        hidden: Array(D.layers).fill(D.hidden),
        outputSize: D.V,
        formatter,
        maxPredictionLength: maxLen,
      });
      net.bindEquation();
      // One iteration = one char: generate until at least n chars have come out, report how many.
      const t = await timeRuns((n) => {
        let got = 0;
        while (got < n) got += net.run('', true).length;
        return got;
      }, bud);
      return { ...summarize(t, 'chars/s', 1), params: paramsOf(net) };
    });
  }
};
