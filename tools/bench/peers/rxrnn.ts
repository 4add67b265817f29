// rxrnn side of the peer benchmark, through the packages' public APIs only: createCell().step (A),
// createOfflineTrainer(...).trainStep at 1 and 2 threads (B), RnnStack.forward and .infer over a window (C)
// and the generate() operator (D); A, C and D also after setStepThreads(2). Buffers come from
// allocF32, so they live in the kernels' WASM memory.

import { CharModel, createCell, generate, RnnStack } from '@rxrnn/cells';
import {
  allocF32,
  getBackend,
  getStepThreads,
  ready,
  setNativeThreads,
  setStepThreads as setStepThreadsOnly,
} from '@rxrnn/kernels';

/**
 * A form's thread count: setStepThreads for the steps, and on the native backend also the addon's
 * budget, so that one-thread forms really use one core and two-thread forms may use two.
 */
async function setStepThreads(threads: 1 | 2): Promise<void> {
  await setStepThreadsOnly(threads);
  if (getBackend() === 'native') setNativeThreads(threads);
}

import { queueScheduler } from 'rxjs';
import { randomF32, randomIds, summarize, timeRuns } from './measure.js';
import { A, B, budget, C, D, type Emit, guarded, type RunWorkload, type Workload } from './workloads.js';

/** A 65-char alphabet and a random text over it: throughput does not depend on the text. */
function alphabet(V: number): string[] {
  return Array.from({ length: V }, (_, k) => String.fromCharCode(32 + k));
}

export const rxrnnRunner: RunWorkload = async (workload: Workload, quick: boolean, emit: Emit) => {
  await ready();
  const backend = `kernels backend ${getBackend()}`;
  const bud = budget(workload, quick);
  if (workload === 'A') {
    for (const threads of [1, 2] as const) {
      await setStepThreads(threads);
      for (const cell of A.cells) {
        for (const H of A.hidden) {
          const form = threads === 1 ? 'cell' : 'cell-2t';
          const how =
            threads === 1
              ? 'one thread'
              : `setStepThreads(2): a helper thread shares steps of ≥ ${getStepThreads().minWeights} weights`;
          const base = {
            workload,
            cell,
            hidden: H,
            inputSize: A.n_x,
            batch: 1,
            form,
            notes: `createCell().step on allocF32 buffers, h read in place, ${how}; ${backend}`,
          };
          await guarded(emit, base, async () => {
            const c = createCell({ kind: cell, inputSize: A.n_x, hiddenSize: H, seed: 1 });
            const state = c.createState(1);
            const x = allocF32(A.n_x);
            x.set(randomF32(A.n_x, 3));
            const t = await timeRuns((n) => {
              for (let k = 0; k < n; k++) c.step(state, x, 1);
            }, bud);
            return { ...summarize(t, 'us/step', 1), params: c.paramCount() };
          });
        }
      }
    }
    await setStepThreads(1);
  } else if (workload === 'B') {
    // Imported here so that a trainer that fails to load costs only workload B. The trainer's Node
    // entry supplies the worker threads that threads: 2 needs.
    const { timeTrainRun } = await import('../train-run.js');
    const vocab = alphabet(B.V);
    const ids = randomIds(200_000, B.V, 5);
    const text = Array.from(ids, (i) => vocab[i]).join('');
    for (const cell of quick ? B.cells.slice(0, 1) : B.cells) {
      for (const threads of [1, 2] as const) {
        if (getBackend() === 'native') setNativeThreads(threads);
        const base = {
          workload,
          cell,
          hidden: B.hidden,
          inputSize: B.E,
          batch: B.batch,
          T: B.T,
          vocab: B.V,
          form: `trainer-${threads}t`,
          notes: `OfflineTrainer.trainStep, ${threads} thread${threads > 1 ? 's' : ''}, adam, maxGradNorm ${B.clip}, state carried; ${backend}`,
        };
        await guarded(emit, base, async () => {
          const { measured, params } = await timeTrainRun({ cell, vocab, text, hidden: B.hidden, threads }, (updates) =>
            timeRuns(updates, bud),
          );
          return { ...summarize(measured, 'chars/s', B.batch * B.T), params };
        });
      }
    }
  } else if (workload === 'C') {
    const { hidden: H, batch: Bn, T, n_x } = C;
    // forward keeps the tape a backward pass needs (training); infer keeps nothing (inference, what
    // the peers' forward passes are).
    const runs = [
      { form: 'stack', notes: 'RnnStack.forward over [T,B,n_x] (keeps its tape)', infer: false },
      { form: 'infer', notes: 'RnnStack.infer over [T,B,n_x] (no tape: one lstmSequence call)', infer: true },
    ] as const;
    for (const threads of [1, 2] as const) {
      await setStepThreads(threads);
      const how =
        threads === 1 ? 'one thread' : 'setStepThreads(2): a helper thread shares the rows of the batched products';
      for (const run of runs) {
        const base = {
          workload,
          cell: C.cell,
          hidden: H,
          inputSize: n_x,
          batch: Bn,
          T,
          form: threads === 1 ? run.form : `${run.form}-2t`,
          notes: `${run.notes}, ${how}; ${backend}`,
        };
        await guarded(emit, base, async () => {
          const stack = new RnnStack({ kind: C.cell, inputSize: n_x, hiddenSize: H, layers: 1, seed: 1 });
          const input = allocF32(T * Bn * n_x);
          input.set(randomF32(T * Bn * n_x, 4));
          const state = stack.createState(Bn);
          const t = await timeRuns((n) => {
            if (run.infer) for (let k = 0; k < n; k++) stack.infer(input, T, Bn, state);
            else for (let k = 0; k < n; k++) stack.forward(input, T, Bn, state);
          }, bud);
          return { ...summarize(t, 'steps*batch/s', T * Bn), params: stack.paramCount() };
        });
      }
    }
    await setStepThreads(1);
  } else {
    const vocab = alphabet(D.V);
    const model = new CharModel({
      cell: D.cell,
      vocab,
      hidden: D.hidden,
      embeddingDim: D.E,
      layers: D.layers,
      seed: 1,
    });
    const forms = [
      { form: 'generate', opts: {}, threads: 1, notes: 'generate() defaults: asyncScheduler, yields every 4 ms' },
      {
        form: 'generate-sync',
        opts: { scheduler: queueScheduler },
        threads: 1,
        notes: 'generate() with scheduler: queueScheduler (no yielding)',
      },
      {
        form: 'generate-sync-2t',
        opts: { scheduler: queueScheduler },
        threads: 2,
        notes: 'generate() with scheduler: queueScheduler, setStepThreads(2)',
      },
    ] as const;
    for (const f of forms) {
      await setStepThreads(f.threads);
      const base = {
        workload,
        cell: D.cell,
        hidden: D.hidden,
        inputSize: D.E,
        layers: D.layers,
        vocab: D.V,
        batch: 1,
        form: f.form,
        notes: `${f.notes}; sampling at temperature 1 included; ${backend}`,
      };
      await guarded(emit, base, async () => {
        // One iteration = one char: a generation of n chars, timed until it completes.
        const t = await timeRuns(
          (n) =>
            new Promise<number>((resolve, reject) => {
              let got = 0;
              generate(model, { prime: vocab[0]!, length: n, temperature: 1, seed: 9, ...f.opts }).subscribe({
                next: () => void got++,
                error: reject,
                complete: () => resolve(got),
              });
            }),
          bud,
        );
        return { ...summarize(t, 'chars/s', 1), params: model.paramCount() };
      });
    }
    await setStepThreads(1);
  }
};
