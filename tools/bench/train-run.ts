// The trainer run that both `npm run bench -- train` and the peers' workload B time: a char LM
// (1 layer unless asked, embedding B.E, seed 1) under createOfflineTrainer with workload B's batch,
// T, Adam, lr and global-norm clip, no evaluation. The caller brings the clock; the trainer is closed afterwards.
import { CharModel, type CharModelConfig } from '@rxrnn/cells';
import { createOfflineTrainer, type OfflineTrainer } from '@rxrnn/trainer/node';
import { B, type CellKind } from './peers/workloads.js';

export interface TrainRun {
  cell: CellKind;
  /** Chars in id order; V = vocab.length. */
  vocab: string[];
  text: string;
  hidden: number;
  threads: 1 | 2;
  /** L, default 1. */
  layers?: number;
  /** Dropout settings of the model (default none). */
  dropout?: Pick<
    CharModelConfig,
    'dropout' | 'embeddingDropout' | 'outputDropout' | 'inputDropout' | 'recurrentDropout'
  >;
}

/** Builds the model and trainer for `run`; the caller closes the trainer (its worker thread). */
export async function openTrainRun(run: TrainRun): Promise<{ trainer: OfflineTrainer; params: number }> {
  const model = new CharModel({
    cell: run.cell,
    vocab: run.vocab,
    hidden: run.hidden,
    embeddingDim: B.E,
    layers: run.layers ?? 1,
    seed: 1,
    ...run.dropout,
  });
  const trainer = await createOfflineTrainer(model, run.text, {
    batchSize: B.batch,
    bptt: B.T,
    optimizer: { kind: 'adam' },
    lr: B.lr,
    maxGradNorm: B.clip,
    evalEvery: 0,
    threads: run.threads,
  });
  return { trainer, params: model.paramCount() };
}

/**
 * Builds the model and trainer for `run`, hands `time` a body that performs n updates, and
 * returns what `time` measured with the model's parameter count.
 */
export async function timeTrainRun<R>(
  run: TrainRun,
  time: (updates: (n: number) => void, trainer: OfflineTrainer) => Promise<R>,
): Promise<{ measured: R; params: number }> {
  const { trainer: tr, params } = await openTrainRun(run);
  try {
    const measured = await time((n) => {
      for (let k = 0; k < n; k++) tr.trainStep();
    }, tr);
    return { measured, params };
  } finally {
    await tr.close();
  }
}
