// onnxruntime side of the peer benchmark: models written by rxrnn's ONNX exporter (toOnnx of
// @rxrnn/cells/onnx: LSTM/GRU/RNN nodes, opset 14) run in onnxruntime-node (native CPU provider,
// intra-op threads 1 or 2) and onnxruntime-web (its WASM build, in Node, one thread). A: session
// runs of T = 1 with the states fed back; C: one run over the window; D: a 2-layer LSTM char model
// stepped token by token, sampled in JS. B: onnxruntime runs inference only.
import { CharModel, RnnStack } from '@rxrnn/cells';
import { toOnnx } from '@rxrnn/cells/onnx';
import type * as OrtNode from 'onnxruntime-node';
import { randomF32, seeded, summarize, timeRuns } from './measure.js';
import { A, B, budget, C, D, type Emit, guarded, type RunWorkload, type Workload } from './workloads.js';

type Ort = typeof OrtNode;
type Session = OrtNode.InferenceSession;
type Tensor = OrtNode.Tensor;

interface Variant {
  form: string;
  threads: number;
  options: OrtNode.InferenceSession.SessionOptions;
}

async function load(flavor: 'node' | 'web'): Promise<{ ort: Ort; variants: Variant[]; what: string }> {
  if (flavor === 'node') {
    const ort = (await import('onnxruntime-node')) as Ort;
    const variants = [1, 2].map((threads) => ({
      form: threads === 1 ? 'session' : 'session-2t',
      threads,
      options: { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'] },
    }));
    return { ort, variants, what: `onnxruntime-node ${ort.env.versions.node ?? ''}, CPU provider` };
  }
  const ort = (await import('onnxruntime-web')) as unknown as Ort;
  // One thread: the WASM build's threads need cross-origin isolation in a browser and workers here.
  ort.env.wasm.numThreads = 1;
  const variants = [{ form: 'session', threads: 1, options: { executionProviders: ['wasm'] } }];
  return { ort, variants, what: `onnxruntime-web ${ort.env.versions.web ?? ''}, wasm provider, numThreads 1` };
}

function stateFeeds(ort: Ort, lstm: boolean, rows: number, H: number): Record<string, Tensor> {
  const zeros = () => new ort.Tensor('float32', new Float32Array(rows * H), [rows, 1, H]);
  return lstm ? { h0: zeros(), c0: zeros() } : { h0: zeros() };
}

export function onnxruntimeRunner(flavor: 'node' | 'web'): RunWorkload {
  return async (workload: Workload, quick: boolean, emit: Emit) => {
    const { ort, variants, what } = await load(flavor);
    const bud = budget(workload, quick);
    if (workload === 'B') {
      emit({
        workload,
        cell: B.cells[0]!,
        hidden: B.hidden,
        form: 'none',
        unit: 'chars/s',
        skipped: 'onnxruntime runs inference; it has no training for these models',
      });
      return;
    }
    for (const v of variants) {
      if (workload === 'A') {
        for (const cell of A.cells) {
          for (const H of A.hidden) {
            const base = {
              workload,
              cell,
              hidden: H,
              inputSize: A.n_x,
              batch: 1,
              form: v.form,
              notes: `toOnnx(RnnStack) file, session.run per step (T = 1), hn/cn fed back; ${what}, intra-op threads ${v.threads}`,
            };
            await guarded(emit, base, async () => {
              const stack = new RnnStack({ kind: cell, inputSize: A.n_x, hiddenSize: H, seed: 1 });
              const session: Session = await ort.InferenceSession.create(toOnnx(stack), v.options);
              const x = new ort.Tensor('float32', randomF32(A.n_x, 3), [1, 1, A.n_x]);
              let states = stateFeeds(ort, cell === 'lstm', 1, H);
              const t = await timeRuns(async (n) => {
                for (let k = 0; k < n; k++) {
                  const out = await session.run({ input: x, ...states });
                  states = cell === 'lstm' ? { h0: out.hn!, c0: out.cn! } : { h0: out.hn! };
                }
              }, bud);
              await session.release();
              return { ...summarize(t, 'us/step', 1), params: stack.paramCount() };
            });
          }
        }
      } else if (workload === 'C') {
        const base = {
          workload,
          cell: C.cell,
          hidden: C.hidden,
          inputSize: C.n_x,
          batch: C.batch,
          T: C.T,
          form: v.form,
          notes: `toOnnx(RnnStack) file, one session.run over [T, B, n_x], zero states; ${what}, intra-op threads ${v.threads}`,
        };
        await guarded(emit, base, async () => {
          const stack = new RnnStack({ kind: C.cell, inputSize: C.n_x, hiddenSize: C.hidden, seed: 1 });
          const session: Session = await ort.InferenceSession.create(toOnnx(stack), v.options);
          const n = C.T * C.batch * C.n_x;
          const feeds = {
            input: new ort.Tensor('float32', randomF32(n, 4), [C.T, C.batch, C.n_x]),
            h0: new ort.Tensor('float32', new Float32Array(C.batch * C.hidden), [1, C.batch, C.hidden]),
            c0: new ort.Tensor('float32', new Float32Array(C.batch * C.hidden), [1, C.batch, C.hidden]),
          };
          const t = await timeRuns(async (k) => {
            for (let i = 0; i < k; i++) await session.run(feeds);
          }, bud);
          await session.release();
          return { ...summarize(t, 'steps*batch/s', C.T * C.batch), params: stack.paramCount() };
        });
      } else if (workload === 'D') {
        const base = {
          workload,
          cell: D.cell,
          hidden: D.hidden,
          inputSize: D.E,
          batch: 1,
          layers: D.layers,
          vocab: D.V,
          form: `${v.form}+js`,
          notes: `toOnnx(CharModel) file, session.run per token (T = 1) with states fed back, softmax and sampling in JS; ${what}, intra-op threads ${v.threads}`,
        };
        await guarded(emit, base, async () => {
          const vocab = Array.from({ length: D.V }, (_, k) => String.fromCharCode(32 + k));
          const model = new CharModel({
            cell: D.cell,
            vocab,
            hidden: D.hidden,
            layers: D.layers,
            embeddingDim: D.E,
            seed: 1,
          });
          const session: Session = await ort.InferenceSession.create(toOnnx(model), v.options);
          const rnd = seeded(7);
          const probs = new Float64Array(D.V);
          const token = new BigInt64Array(1);
          let states = stateFeeds(ort, true, D.layers, D.hidden);
          const t = await timeRuns(async (n) => {
            for (let k = 0; k < n; k++) {
              const out = await session.run({ tokens: new ort.Tensor('int64', token, [1, 1]), ...states });
              states = { h0: out.hn!, c0: out.cn! };
              const z = out.logits!.data as Float32Array;
              let max = -Infinity;
              for (let i = 0; i < D.V; i++) max = Math.max(max, z[i]!);
              let sum = 0;
              for (let i = 0; i < D.V; i++) sum += probs[i] = Math.exp(z[i]! - max);
              let r = rnd() * sum;
              let id = D.V - 1;
              for (let i = 0; i < D.V; i++) {
                r -= probs[i]!;
                if (r < 0) {
                  id = i;
                  break;
                }
              }
              token[0] = BigInt(id);
            }
          }, bud);
          await session.release();
          return { ...summarize(t, 'chars/s', 1), params: model.paramCount() };
        });
      }
    }
  };
}
