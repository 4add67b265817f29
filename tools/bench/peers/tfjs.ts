// TF.js side of the peer benchmark (cpu backend, or wasm backend unthreaded or threaded, chosen per
// child process): each workload in TF.js's layer form (tf.layers, predict / computeGradients) and
// in raw ops inside tf.tidy. Owns every tensor it creates and disposes them; state tensors are
// swapped per step.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import type * as TFWasm from '@tensorflow/tfjs-backend-wasm';
import { randomIds, summarize, timeRuns } from './measure.js';
import { A, B, budget, C, type CellKind, D, type Emit, guarded, type RunWorkload, type Workload } from './workloads.js';

type Tf = typeof TF;
type T2 = TF.Tensor2D;

/** Which TF.js backend a child runs: plain JS kernels, the SIMD WASM build, or the threaded-SIMD one. */
export type TfBackend = 'cpu' | 'wasm' | 'wasm-threads';

/** Threads asked of the threaded WASM build: two, as many as rxrnn's opt-in threaded forms use. */
const WASM_THREADS = 2;

/** Loads TF.js with only the requested backend active; PROD silences the Node "Hi there" banner. */
async function loadTf(backend: TfBackend): Promise<Tf> {
  const tf = (await import('@tensorflow/tfjs')) as Tf;
  tf.env().set('PROD', true);
  if (backend !== 'cpu') {
    const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof TFWasm;
    if (backend === 'wasm-threads') {
      // The package registers 'wasm' with a loader that never picks the threaded build in Node;
      // its kernels stay registered under 'wasm' and set themselves up on whichever backend that is.
      if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')))
        throw new Error('the threaded WASM build needs WASM SIMD');
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      wasm.setThreadsCount(WASM_THREADS);
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', async () => new wasm.BackendWasm(await threadedWasmModule()), 2);
    }
  }
  const name = backend === 'cpu' ? 'cpu' : 'wasm';
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  return tf;
}

type WasmModule = ConstructorParameters<typeof TFWasm.BackendWasm>[0];
type Instantiated = (instance: WebAssembly.Instance, module: WebAssembly.Module) => void;
interface FactoryConfig {
  locateFile(path: string): string;
  instantiateWasm(imports: WebAssembly.Imports, receive: Instantiated): object;
  onAbort(what: unknown): void;
}

/**
 * The threaded-SIMD emscripten module of tfjs-backend-wasm, loaded as its own init() would load it
 * in a browser, but with files where init() uses blob: URLs. Porting note: two things in 4.22 keep
 * it from running in Node as shipped. (1) init() in dist/tf-backend-wasm.node.js hands the pthread
 * worker script to emscripten as a blob: URL (locateFile) and worker_threads' Worker rejects it
 * (ERR_WORKER_PATH); the WASM_HAS_MULTITHREAD_SUPPORT flag returns false under IS_NODE anyway.
 * Here the worker script (wasm-out/…-threaded-simd.worker.js exports it as a string) goes to a
 * temporary file, and the pthreads load the module script from its own file. (2) The C++
 * init_with_threads_count caps the pool at emscripten_num_logical_cores() / 2, assuming two
 * hardware threads per core; on a host with one per core that halves the cores (1 on 2 cores),
 * so that import reports twice the cores Node sees and the cap becomes the real core count.
 */
async function threadedWasmModule(): Promise<WasmModule> {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const out = join(pkg, 'wasm-out');
  const { wasmWorkerContents } = require(join(out, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  const factory = require(join(out, 'tfjs-backend-wasm-threaded-simd.js')) as (c: FactoryConfig) => Promise<WasmModule>;
  const dir = mkdtempSync(join(tmpdir(), 'rxrnn-bench-tfjs-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const workerFile = join(dir, 'pthread-worker.cjs');
  // The template literal holding the script turned the "\n" escapes of its string literals into
  // newlines; put them back, as init() does before making its Blob.
  writeFileSync(workerFile, wasmWorkerContents.replace(/\n/g, '\\n'));
  const binary = readFileSync(join(pkg, 'dist/tfjs-backend-wasm-threaded-simd.wasm'));
  const cores = 2 * availableParallelism();
  const module = await new Promise<WasmModule>((resolve, reject) => {
    factory({
      locateFile: (path) => (path.endsWith('.worker.js') ? workerFile : join(pkg, 'dist', path)),
      instantiateWasm(imports, receive) {
        const env = { ...imports.env, emscripten_num_logical_cores: () => cores };
        WebAssembly.instantiate(binary, { ...imports, env }).then(
          ({ instance, module }) => receive(instance, module),
          reject,
        );
        return {};
      },
      onAbort: (what) => reject(new Error(`threaded WASM module aborted: ${String(what)}`)),
    }).then(resolve, reject);
  });
  // The bridge init() adds to the module (tfjs namespace, so as not to clash with emscripten's).
  type Cwrap = (name: string, ret: 'number' | null, args: 'number'[]) => (...args: number[]) => number;
  const { cwrap } = module as unknown as { cwrap: Cwrap };
  module.tfjs = {
    init: cwrap('init', null, []),
    initWithThreadsCount: cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: cwrap('get_threads_count', 'number', []),
    registerTensor: cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: cwrap('dispose_data', null, ['number']),
    dispose: cwrap('dispose', null, []),
  };
  return module;
}

/** What a record's notes say about the backend that ran, read back from TF.js. */
async function backendFlags(tf: Tf, backend: TfBackend): Promise<string> {
  if (backend === 'cpu') return 'plain JS kernels';
  const { getThreadsCount } = (await import('@tensorflow/tfjs-backend-wasm')) as typeof TFWasm;
  const env = tf.env();
  return `simd=${env.getBool('WASM_HAS_SIMD_SUPPORT')} threads=${env.getBool('WASM_HAS_MULTITHREAD_SUPPORT')} threadsCount=${getThreadsCount()}`;
}

export function tfjsRunner(backend: TfBackend): RunWorkload {
  return async (workload: Workload, quick: boolean, emit: Emit) => {
    const tf = await loadTf(backend);
    const ctx = { tf, quick, emit, flags: await backendFlags(tf, backend) };
    const fn = { A: workloadA, B: workloadB, C: workloadC, D: workloadD }[workload];
    await fn(ctx);
  };
}

interface Ctx {
  tf: Tf;
  quick: boolean;
  emit: Emit;
  flags: string;
}

function uniform(tf: Tf, shape: number[], a: number): TF.Tensor {
  return tf.randomUniform(shape, -a, a, 'float32', 7);
}

// ---------------------------------------------------------------------------------------------
// Raw-op cells at batch rows, weights fused per cell. LSTM columns are ordered [i, f, o | g] so
// one sigmoid covers three gates (fewer ops per step is what the fastest TF.js form is about).

interface OpsCell {
  /** state tensors, replaced (old ones disposed) by step */
  state: TF.Tensor[];
  step(x: TF.Tensor): TF.Tensor[];
  dispose(): void;
  params: number;
}

function opsCell(tf: Tf, kind: CellKind, n_x: number, H: number, rows: number): OpsCell {
  const a = 1 / Math.sqrt(H);
  const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
  const weights: TF.Tensor[] = [];
  const keep = <X extends TF.Tensor>(t: X): X => {
    weights.push(t);
    return t;
  };
  const zeros = (): TF.Tensor => tf.zeros([rows, H]);
  const state = kind === 'lstm' ? [zeros(), zeros()] : [zeros()];
  let step: (x: TF.Tensor, s: [TF.Tensor, TF.Tensor]) => TF.Tensor[];
  if (kind === 'gru') {
    // Reset-after (PyTorch): separate input and hidden products, r applied to W_hn h + b_hn.
    const Wih = keep(uniform(tf, [n_x, G * H], a)) as T2;
    const Whh = keep(uniform(tf, [H, G * H], a)) as T2;
    const bih = keep(uniform(tf, [G * H], a));
    const bhh = keep(uniform(tf, [G * H], a));
    step = (x, [h]) => {
      const xp = tf.fused.matMul({ a: x as T2, b: Wih, bias: bih });
      const hp = tf.fused.matMul({ a: h as T2, b: Whh, bias: bhh });
      const rz = tf.sigmoid(tf.add(tf.slice(xp, [0, 0], [rows, 2 * H]), tf.slice(hp, [0, 0], [rows, 2 * H])));
      const [r, z] = tf.split(rz, 2, 1) as [TF.Tensor, TF.Tensor];
      const n = tf.tanh(tf.add(tf.slice(xp, [0, 2 * H], [rows, H]), tf.mul(r, tf.slice(hp, [0, 2 * H], [rows, H]))));
      return [tf.add(n, tf.mul(z, tf.sub(h, n)))];
    };
  } else {
    const W = keep(uniform(tf, [n_x + H, G * H], a)) as T2;
    const b = keep(uniform(tf, [G * H], a));
    step =
      kind === 'rnn'
        ? (x, [h]) => [tf.tanh(tf.fused.matMul({ a: tf.concat([x, h], 1) as T2, b: W, bias: b }))]
        : (x, [h, c]) => {
            const z = tf.fused.matMul({ a: tf.concat([x, h], 1) as T2, b: W, bias: b });
            const [i, f, o] = tf.split(tf.sigmoid(tf.slice(z, [0, 0], [rows, 3 * H])), 3, 1) as [
              TF.Tensor,
              TF.Tensor,
              TF.Tensor,
            ];
            const g = tf.tanh(tf.slice(z, [0, 3 * H], [rows, H]));
            const c2 = tf.add(tf.mul(f, c), tf.mul(i, g));
            return [tf.mul(o, tf.tanh(c2)), c2];
          };
  }
  const cell: OpsCell = {
    state,
    step(x) {
      const next = tf.tidy(() => step(x, cell.state as [TF.Tensor, TF.Tensor]));
      for (const t of cell.state) t.dispose();
      cell.state = next;
      return next;
    },
    dispose() {
      for (const t of [...weights, ...cell.state]) t.dispose();
    },
    params: weights.reduce((n, w) => n + w.size, 0),
  };
  return cell;
}

function recurrentLayer(tf: Tf, kind: CellKind, H: number, extra: Record<string, unknown>): TF.layers.Layer {
  // Glorot for the recurrent kernel too: the default orthogonal one is slow to build at H=512 and
  // warns on the console; initial values do not change the arithmetic being timed.
  const opts = { units: H, recurrentInitializer: 'glorotUniform' as const, ...extra };
  if (kind === 'lstm') return tf.layers.lstm(opts);
  if (kind === 'gru') return tf.layers.gru(opts);
  return tf.layers.simpleRNN({ ...opts, activation: 'tanh' });
}

// ---------------------------------------------------------------------------------------------
// A. One step at batch 1 with state carried; the step's h is read back to JS (dataSync) as a
// streaming consumer would.

async function workloadA({ tf, quick, emit, flags }: Ctx): Promise<void> {
  const bud = budget('A', quick);
  for (const cell of A.cells) {
    for (const H of A.hidden) {
      const base = { workload: 'A' as const, cell, hidden: H, inputSize: A.n_x, batch: 1 };
      const x = tf.tidy(() => uniform(tf, [1, A.n_x], 1));
      await guarded(emit, { ...base, form: 'ops', notes: `tf.tidy + fused matMul; ${flags}` }, async () => {
        const c = opsCell(tf, cell, A.n_x, H, 1);
        const t = await timeRuns((n) => {
          for (let k = 0; k < n; k++) c.step(x)[0]!.dataSync();
        }, bud);
        c.dispose();
        return { ...summarize(t, 'us/step', 1), params: c.params };
      });
      await guarded(emit, { ...base, form: 'layer', notes: `stateful layer, predict per step; ${flags}` }, async () => {
        const model = tf.sequential({
          layers: [recurrentLayer(tf, cell, H, { stateful: true, batchInputShape: [1, 1, A.n_x] })],
        });
        const x3 = x.reshape([1, 1, A.n_x]);
        const t = await timeRuns((n) => {
          for (let k = 0; k < n; k++) {
            const y = model.predict(x3) as TF.Tensor;
            y.dataSync();
            y.dispose();
          }
        }, bud);
        x3.dispose();
        const params = model.countParams();
        model.dispose();
        return { ...summarize(t, 'us/step', 1), params };
      });
      x.dispose();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// B. Training step: embedding → cell (return sequences) → dense, mean softmax cross-entropy over
// B·T positions, computeGradients, global-norm clip, Adam.applyGradients. State is not carried
// between windows (initial zeros each window; the arithmetic is the same either way).

async function workloadB({ tf, quick, emit, flags }: Ctx): Promise<void> {
  const bud = budget('B', quick);
  for (const cell of quick ? B.cells.slice(0, 1) : B.cells) {
    const base = { workload: 'B' as const, cell, hidden: B.hidden, inputSize: B.E, batch: B.batch, T: B.T, vocab: B.V };
    await guarded(
      emit,
      {
        ...base,
        form: 'layer',
        notes: `tf.layers one-hot·W_emb → ${cell} → dense, adam, computeGradients + global-norm clip ${B.clip}; ${flags}`,
      },
      async () => {
        const model = tf.sequential({
          layers: [
            // The embedding as one-hot · W_emb: tf.layers.embedding's gradient needs the
            // UnsortedSegmentSum kernel, which tfjs-backend-wasm 4.22 does not have.
            tf.layers.dense({ units: B.E, useBias: false, batchInputShape: [B.batch, B.T, B.V] }),
            recurrentLayer(tf, cell, B.hidden, { returnSequences: true }),
            tf.layers.dense({ units: B.V }),
          ],
        });
        const opt = tf.train.adam(B.lr);
        const ids = randomIds(B.batch * (B.T + 1), B.V, 11);
        const xs = tf.tidy(() =>
          tf
            .oneHot(
              tf.tensor2d(
                Int32Array.from({ length: B.batch * B.T }, (_, k) => ids[Math.floor(k / B.T) * (B.T + 1) + (k % B.T)]!),
                [B.batch, B.T],
                'int32',
              ),
              B.V,
            )
            .toFloat(),
        );
        const ys = tf.tidy(() =>
          tf.oneHot(
            tf.tensor1d(
              Int32Array.from(
                { length: B.batch * B.T },
                (_, k) => ids[Math.floor(k / B.T) * (B.T + 1) + (k % B.T) + 1]!,
              ),
              'int32',
            ),
            B.V,
          ),
        );
        const vars = model.trainableWeights.map((w) => w.read() as TF.Variable);
        const trainStep = (): void => {
          tf.tidy(() => {
            const { value, grads } = opt.computeGradients(() => {
              const logits = model.apply(xs, { training: true }) as TF.Tensor;
              return tf.losses.softmaxCrossEntropy(ys, logits.reshape([B.batch * B.T, B.V])) as TF.Scalar;
            }, vars);
            const names = Object.keys(grads);
            const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k]!)))));
            const scale = tf.minimum(1, tf.div(B.clip, tf.add(norm, 1e-6)));
            opt.applyGradients(names.map((name) => ({ name, tensor: tf.mul(grads[name]!, scale) })));
            value.dataSync();
          });
        };
        const t = await timeRuns((n) => {
          for (let k = 0; k < n; k++) trainStep();
        }, bud);
        xs.dispose();
        ys.dispose();
        const params = model.countParams();
        model.dispose();
        opt.dispose();
        return { ...summarize(t, 'chars/s', B.batch * B.T), params };
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// C. Forward over a [T, B, n_x] window; all outputs [T, B, H] read back.

async function workloadC({ tf, quick, emit, flags }: Ctx): Promise<void> {
  const bud = budget('C', quick);
  const { hidden: H, batch: Bn, T, n_x } = C;
  const base = { workload: 'C' as const, cell: C.cell, hidden: H, inputSize: n_x, batch: Bn, T };
  const work = T * Bn;
  await guarded(
    emit,
    { ...base, form: 'ops', notes: `per step: slice x_t, concat with h, one fused matMul; ${flags}` },
    async () => {
      // Porting note: one X·W_ih product for the whole window and a per-step slice of it is slower
      // here (slicing or splitting a large tensor is very slow on tfjs-backend-wasm 4.22).
      const cell = opsCell(tf, C.cell, n_x, H, Bn);
      const X = uniform(tf, [T * Bn, n_x], 1) as T2;
      const forward = (): void => {
        const hs: TF.Tensor[] = [];
        for (let t = 0; t < T; t++) {
          const x = tf.slice(X, [t * Bn, 0], [Bn, n_x]);
          hs.push(tf.clone(cell.step(x)[0]!));
          x.dispose();
        }
        const out = tf.stack(hs);
        out.dataSync();
        for (const h of [...hs, out]) h.dispose();
      };
      const t = await timeRuns((n) => {
        for (let k = 0; k < n; k++) forward();
      }, bud);
      cell.dispose();
      X.dispose();
      return { ...summarize(t, 'steps*batch/s', work), params: cell.params };
    },
  );
  await guarded(
    emit,
    { ...base, form: 'layer', notes: `tf.layers.lstm returnSequences, predict; ${flags}` },
    async () => {
      const model = tf.sequential({
        layers: [recurrentLayer(tf, C.cell, H, { returnSequences: true, inputShape: [T, n_x] })],
      });
      // Layers are batch-major [B, T, n_x]; the same numbers as the time-major window.
      const X = uniform(tf, [Bn, T, n_x], 1);
      const t = await timeRuns((n) => {
        for (let k = 0; k < n; k++) {
          const y = model.predict(X, { batchSize: Bn }) as TF.Tensor;
          y.dataSync();
          y.dispose();
        }
      }, bud);
      X.dispose();
      const params = model.countParams();
      model.dispose();
      return { ...summarize(t, 'steps*batch/s', work), params };
    },
  );
}

// ---------------------------------------------------------------------------------------------
// D. Generation: embedding row → 2 LSTM layers → dense logits → sample → next token; chars/s.
// Two samplers: tf.multinomial on the logits, or softmax read back and sampled in JS.

async function workloadD({ tf, quick, emit, flags }: Ctx): Promise<void> {
  const bud = budget('D', quick);
  const { V, E, hidden: H, layers } = D;
  const base = { workload: 'D' as const, cell: D.cell, hidden: H, inputSize: E, layers, vocab: V, batch: 1 };
  for (const sampler of ['multinomial', 'js'] as const) {
    await guarded(
      emit,
      {
        ...base,
        form: `ops+${sampler}`,
        notes: `raw ops per step, ${sampler === 'js' ? 'softmax read back, sampled in JS' : 'tf.multinomial'}; ${flags}`,
      },
      async () => {
        const a = 1 / Math.sqrt(H);
        const emb = uniform(tf, [V, E], 1);
        const cells = Array.from({ length: layers }, (_, l) => opsCell(tf, 'lstm', l === 0 ? E : H, H, 1));
        const Wy = uniform(tf, [H, V], a) as T2;
        const by = uniform(tf, [V], a);
        let token = 0;
        const nextChar = (): number => {
          const tok = tf.tensor1d([token], 'int32');
          const e = tf.gather(emb, tok);
          // Each layer's h belongs to its cell (disposed on the cell's next step).
          let x: TF.Tensor = e;
          for (const c of cells) x = c.step(x)[0]!;
          e.dispose();
          tok.dispose();
          if (sampler === 'multinomial') {
            const id = tf.tidy(() =>
              tf.multinomial(tf.fused.matMul({ a: x as T2, b: Wy, bias: by }) as TF.Tensor2D, 1),
            );
            token = id.dataSync()[0]!;
            id.dispose();
          } else {
            const p = tf.tidy(() => tf.softmax(tf.fused.matMul({ a: x as T2, b: Wy, bias: by })));
            const probs = p.dataSync();
            p.dispose();
            let r = Math.random();
            token = V - 1;
            for (let k = 0; k < V; k++) {
              r -= probs[k]!;
              if (r < 0) {
                token = k;
                break;
              }
            }
          }
          return token;
        };
        const t = await timeRuns((n) => {
          for (let k = 0; k < n; k++) nextChar();
        }, bud);
        const params = [emb, Wy, by].reduce((n, w) => n + w.size, 0) + cells.reduce((n, c) => n + c.params, 0);
        for (const c of cells) c.dispose();
        for (const x of [emb, Wy, by]) x.dispose();
        return { ...summarize(t, 'chars/s', 1), params };
      },
    );
  }
}
