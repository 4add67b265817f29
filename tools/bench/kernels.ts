// `npm run bench -- kernels [--json]`: GFLOP/s of GEMV and GEMM on every backend this process runs
// (native on 1 and 2 threads where the addon loads, wasm, js), measured in one run on arrays from
// allocF32 (zero-copy for wasm). Median of several timed runs per case, samples alternating between
// the forms. Also times the fused LSTM/GRU gate kernels at B=32, H=256 and the char-LM loss
// (softmax cross-entropy over 2048 rows of 65 logits) and its Adam step over 349,569 parameters
// (records with usPerCall instead of gflops), the tape-free LSTM and GRU windows (lstmSequence,
// gruSequence at B 64, H 512) and 1024³ GEMMs (not on js: a second per call).
import { performance } from 'node:perf_hooks';
import type { Backend } from '@rxrnn/kernels';
import {
  adamUpdate,
  allocF32,
  gemmAB,
  gemmABt,
  gemmAtB,
  gemv,
  gruForward,
  gruSequence,
  initUniform,
  lstmBackward,
  lstmForward,
  lstmSequence,
  Rng,
  setBackend,
  setNativeThreads,
  softmaxCrossEntropy,
} from '@rxrnn/kernels';

interface Case {
  kernel: string;
  shape: string;
  /** Floating-point operations per call; 0 for the gate kernels (timed, not counted). */
  flops: number;
  run: () => void;
  /** Too slow for the js twin (skipped there). */
  heavy?: boolean;
}

function cases(rng: Rng, js: boolean): Case[] {
  const out: Case[] = [];
  for (const [rows, cols] of [
    [256, 320],
    [1024, 320],
    [2048, 576],
  ] as const) {
    const W = allocF32(rows * cols);
    const x = allocF32(cols);
    const y = allocF32(rows);
    initUniform(W, rng, -1, 1);
    initUniform(x, rng, -1, 1);
    out.push({
      kernel: 'gemv',
      shape: `${rows}x${cols}`,
      flops: 2 * rows * cols,
      run: () => gemv(y, W, x, rows, cols),
    });
  }
  // One LSTM batch step: C[B×4H] = X[B×n_x] · W[4H×n_x]ᵀ with B=32, 4H=1024, n_x=320.
  const M = 32;
  const N = 1024;
  const K = 320;
  const X = allocF32(M * K);
  const Wg = allocF32(N * K);
  const C = allocF32(M * N);
  initUniform(X, rng, -1, 1);
  initUniform(Wg, rng, -1, 1);
  out.push({ kernel: 'gemm', shape: `${M}x${N}x${K}`, flops: 2 * M * N * K, run: () => gemmABt(C, X, Wg, M, N, K) });
  // The same step's backward: dW[4H×n_x] = dGᵀ·X (gemmAtB) and dX[B×n_x] = dG·W (gemmAB).
  const dG = allocF32(M * N);
  const dW = allocF32(N * K);
  const dX = allocF32(M * K);
  initUniform(dG, rng, -1, 1);
  out.push({
    kernel: 'gemmAtB',
    shape: `${N}x${K}x${M}`,
    flops: 2 * M * N * K,
    run: () => gemmAtB(dW, dG, X, N, K, M),
  });
  out.push({ kernel: 'gemmAB', shape: `${M}x${K}x${N}`, flops: 2 * M * N * K, run: () => gemmAB(dX, dG, Wg, M, K, N) });
  // Gate kernels over one batch step, B=32, H=256.
  const B = 32;
  const H = 256;
  const n = B * H;
  const pre = allocF32(4 * n);
  const act = allocF32(4 * n);
  const h = allocF32(n);
  const c = allocF32(n);
  const cPrev = allocF32(n);
  const dPre = allocF32(4 * n);
  const dcPrev = allocF32(n);
  const dh = allocF32(n);
  const dc = allocF32(n);
  const xPre = allocF32(3 * n);
  const hPre = allocF32(3 * n);
  const act3 = allocF32(3 * n);
  for (const a of [pre, cPrev, dh, dc, xPre, hPre]) initUniform(a, rng, -2, 2);
  const shape = `${B}x${H}`;
  out.push({ kernel: 'lstmForward', shape, flops: 0, run: () => lstmForward(h, c, act, pre, cPrev, B, H) });
  out.push({
    kernel: 'lstmBackward',
    shape,
    flops: 0,
    run: () => lstmBackward(dPre, dcPrev, dh, dc, act, cPrev, c, B, H),
  });
  out.push({ kernel: 'gruForward', shape, flops: 0, run: () => gruForward(h, act3, xPre, hPre, cPrev, B, H) });
  // The char-LM training loss: T·B = 64·32 positions of V = 65 logits.
  const rows = 2048;
  const V = 65;
  const logits = allocF32(rows * V);
  const dLogits = allocF32(rows * V);
  const lossPerRow = allocF32(rows);
  initUniform(logits, rng, -4, 4);
  const targets = Int32Array.from({ length: rows }, (_, r) => (r * 7) % V);
  // One Adam step over the parameters of the training benchmark's model (1-layer LSTM-256, E 64, V 65).
  const nParams = 349_569;
  const params = allocF32(nParams);
  const grads = allocF32(nParams);
  const mom1 = allocF32(nParams);
  const mom2 = allocF32(nParams);
  initUniform(params, rng, -1, 1);
  initUniform(grads, rng, -0.01, 0.01);
  out.push({
    kernel: 'adamUpdate',
    shape: `${nParams}`,
    flops: 0,
    run: () => adamUpdate(params, grads, mom1, mom2, 2e-3, 0.5, 0.9, 0.999, 1e-8, 1, 0),
  });
  out.push({
    kernel: 'softmaxCE',
    shape: `${rows}x${V}`,
    flops: 0,
    run: () => softmaxCrossEntropy(dLogits, lossPerRow, logits, targets, rows, V),
  });
  // Windows without a tape (RnnStack.infer's kernels), workload C's sizes over 8 steps: B 64, H 512,
  // n_x 64; the flops are the products', 2·T·B·G·H·(n_x + H).
  {
    const [T, Bs, Hs, nX] = [8, 64, 512, 64];
    const x = allocF32(T * Bs * nX);
    const hs = allocF32(T * Bs * Hs);
    initUniform(x, rng, -1, 1);
    for (const [kernel, G] of [
      ['lstmSequence', 4],
      ['gruSequence', 3],
    ] as const) {
      const Wih = allocF32(G * Hs * nX);
      const Whh = allocF32(G * Hs * Hs);
      const bias = allocF32(G * Hs);
      const bHn = allocF32(Hs);
      const state = allocF32((G === 4 ? 2 : 1) * Bs * Hs);
      initUniform(Wih, rng, -0.1, 0.1);
      initUniform(Whh, rng, -0.05, 0.05);
      const flops = 2 * T * Bs * G * Hs * (nX + Hs);
      const seqShape = `${Bs}x${Hs} T${T}`;
      const run =
        G === 4
          ? () => lstmSequence(hs, state, x, Wih, Whh, bias, T, Bs, nX, Hs)
          : () => gruSequence(hs, state, x, Wih, Whh, bias, bHn, T, Bs, nX, Hs);
      out.push({ kernel, shape: seqShape, flops, heavy: true, run });
    }
  }
  // 1024³ in the three forms (the GEMM yardstick); a stand-in on js, which skips them.
  const S = js ? 1 : 1024;
  const A3 = allocF32(S * S);
  const B3 = allocF32(S * S);
  const C3 = allocF32(S * S);
  initUniform(A3, rng, -1, 1);
  initUniform(B3, rng, -1, 1);
  const f3 = 2 * 1024 ** 3;
  const shape3 = '1024x1024x1024';
  out.push({ kernel: 'gemm', shape: shape3, flops: f3, heavy: true, run: () => gemmABt(C3, A3, B3, S, S, S) });
  out.push({ kernel: 'gemmAtB', shape: shape3, flops: f3, heavy: true, run: () => gemmAtB(C3, A3, B3, S, S, S) });
  out.push({ kernel: 'gemmAB', shape: shape3, flops: f3, heavy: true, run: () => gemmAB(C3, A3, B3, S, S, S) });
  return out;
}

/** A backend as measured: native on a thread budget of 1 or 2, wasm, js. */
interface Form {
  name: string;
  backend: Backend;
  threads: number;
  cases: Case[];
}

function use(f: Form): void {
  setBackend(f.backend);
  if (f.backend === 'native') setNativeThreads(f.threads);
}

/** Calls per timed sample, so that one sample takes ~20 ms. */
function calibrate(run: () => void): number {
  for (let i = 0; i < 3; i++) run();
  let reps = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) run();
    if (performance.now() - t > 20) return reps;
    reps *= 2;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function kernels(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const samples = 9;
  // Each form gets its own arrays from allocF32 made while its backend is active.
  const forms: Form[] = [];
  const tryForm = (name: string, backend: Backend, threads: number): void => {
    try {
      setBackend(backend);
    } catch {
      return; // not available here (e.g. no native addon): no rows for it
    }
    forms.push({ name, backend, threads, cases: cases(new Rng(1), backend === 'js') });
  };
  tryForm('native-1t', 'native', 1);
  if (forms.length > 0) forms.push({ ...forms[0]!, name: 'native-2t', threads: 2 });
  tryForm('wasm', 'wasm', 1);
  tryForm('js', 'js', 1);
  const rows: {
    kernel: string;
    backend: Backend;
    threads: number;
    form: string;
    shape: string;
    gflops?: number;
    usPerCall?: number;
  }[] = [];
  const n = forms[0]!.cases.length;
  for (let i = 0; i < n; i++) {
    const group = forms.filter((f) => !(f.backend === 'js' && f.cases[i]!.heavy));
    const reps = group.map((f) => {
      use(f);
      return calibrate(f.cases[i]!.run);
    });
    const times: number[][] = group.map(() => []);
    // Samples alternate between the forms so machine noise hits all alike.
    for (let s = 0; s < samples; s++) {
      group.forEach((f, k) => {
        use(f);
        const c = f.cases[i]!;
        const t = performance.now();
        for (let r = 0; r < reps[k]!; r++) c.run();
        times[k]!.push((performance.now() - t) / 1000 / reps[k]!);
      });
    }
    group.forEach((f, k) => {
      const c = f.cases[i]!;
      const sec = median(times[k]!);
      const base = { kernel: c.kernel, backend: f.backend, threads: f.threads, form: f.name, shape: c.shape };
      const rec =
        c.flops > 0
          ? { ...base, gflops: Number((c.flops / sec / 1e9).toFixed(2)) }
          : { ...base, usPerCall: Number((sec * 1e6).toFixed(1)) };
      rows.push(rec);
      if (json) console.log(JSON.stringify(rec));
    });
  }
  if (forms.some((f) => f.backend === 'native')) setNativeThreads(2);
  if (json) return;
  const names = forms.map((f) => f.name);
  console.log(
    `${'kernel'.padEnd(14)}${'shape'.padEnd(16)}${'unit'.padEnd(13)}${names.map((x) => x.padStart(11)).join('')}`,
  );
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.kernel} ${r.shape}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const unit = r.gflops !== undefined ? 'GFLOP/s' : 'us per call';
    const cells = names.map((name) => {
      const x = rows.find((q) => q.form === name && q.kernel === r.kernel && q.shape === r.shape);
      const v = x === undefined ? '—' : (x.gflops ?? x.usPerCall!).toFixed(2);
      return v.padStart(11);
    });
    console.log(`${r.kernel.padEnd(14)}${r.shape.padEnd(16)}${unit.padEnd(13)}${cells.join('')}`);
  }
}
