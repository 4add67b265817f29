// `npm run bench -- kernels [--json]`: GFLOP/s of GEMV and GEMM on both backends, measured in one
// run on arrays from allocF32 (zero-copy for wasm). Median of several timed runs per case. Also
// times the fused LSTM/GRU gate kernels at B=32, H=256 (records with usPerCall instead of gflops).
import { performance } from 'node:perf_hooks';
import type { Backend } from '@rxrnn/kernels';
import {
  allocF32,
  gemmAB,
  gemmABt,
  gemmAtB,
  gemv,
  gruForward,
  initUniform,
  lstmBackward,
  lstmForward,
  Rng,
  setBackend,
} from '@rxrnn/kernels';

interface Case {
  kernel: string;
  shape: string;
  /** Floating-point operations per call; 0 for the gate kernels (timed, not counted). */
  flops: number;
  run: () => void;
}

function cases(rng: Rng): Case[] {
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
  return out;
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
  // Each backend gets its own arrays from allocF32 made while it is active (WASM memory for wasm).
  setBackend('wasm');
  const wasmCases = cases(new Rng(1));
  setBackend('js');
  const jsCases = cases(new Rng(1));
  const rows: { kernel: string; backend: Backend; shape: string; gflops?: number; usPerCall?: number }[] = [];
  for (let i = 0; i < wasmCases.length; i++) {
    const pair = [
      ['wasm', wasmCases[i]!],
      ['js', jsCases[i]!],
    ] as const;
    const reps = pair.map(([b, c]) => {
      setBackend(b);
      return calibrate(c.run);
    });
    const times: number[][] = [[], []];
    // Samples alternate between the backends so machine noise hits both alike.
    for (let s = 0; s < samples; s++) {
      pair.forEach(([b, c], k) => {
        setBackend(b);
        const t = performance.now();
        for (let r = 0; r < reps[k]!; r++) c.run();
        times[k]!.push((performance.now() - t) / 1000 / reps[k]!);
      });
    }
    pair.forEach(([backend, c], k) => {
      const sec = median(times[k]!);
      const rec =
        c.flops > 0
          ? { kernel: c.kernel, backend, shape: c.shape, gflops: Number((c.flops / sec / 1e9).toFixed(2)) }
          : { kernel: c.kernel, backend, shape: c.shape, usPerCall: Number((sec * 1e6).toFixed(1)) };
      rows.push(rec);
      if (json) console.log(JSON.stringify(rec));
    });
  }
  if (json) return;
  console.log('kernel        shape          unit               wasm          js   wasm/js');
  for (const w of rows.filter((r) => r.backend === 'wasm')) {
    const j = rows.find((r) => r.backend === 'js' && r.kernel === w.kernel && r.shape === w.shape)!;
    const [unit, a, b, speedup] =
      w.gflops !== undefined
        ? ['GFLOP/s', w.gflops, j.gflops!, w.gflops / j.gflops!]
        : ['us per call', w.usPerCall!, j.usPerCall!, j.usPerCall! / w.usPerCall!];
    console.log(
      `${w.kernel.padEnd(14)}${w.shape.padEnd(15)}${unit.padEnd(13)}${a.toFixed(2).padStart(11)}${b.toFixed(2).padStart(12)}${speedup.toFixed(1).padStart(9)}x`,
    );
  }
}
