// The native backend: every kernel on every instruction set this CPU runs (AVX-512, AVX2+FMA,
// portable) against the reference twin, within a relative 1e-5 of Σ|terms| (FMA and the vector
// lanes reassociate each sum, so results differ from the twin's float64 sums by a few float32
// roundings per term, never by more); identical bits run to run and with 1 or 2 threads; the
// length checks in C; and the thread budget and step sharing switches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { loadNative, type NativeKernels } from '../src/native.js';
import { abs, maxScaledDiff, rand } from './helpers.js';

const TOL = 1e-5;
const addon: NativeKernels | null = loadNative();
const initial = K.getBackend();
const isas = addon ? addon.info().available : [];
const threads0 = addon ? addon.info().threads : 1;
beforeAll(() => {
  if (addon) K.setBackend('native');
});
afterAll(() => {
  addon?.setIsa('');
  addon?.setThreads(threads0);
  K.setBackend(initial);
});

type GemmName = 'gemmABt' | 'gemmAtB' | 'gemmAB';
const GEMMS: GemmName[] = ['gemmABt', 'gemmAtB', 'gemmAB'];
const GEMM = { gemmABt: K.gemmABt, gemmAtB: K.gemmAtB, gemmAB: K.gemmAB };
const TWIN = { gemmABt: K.reference.gemmABt, gemmAtB: K.reference.gemmAtB, gemmAB: K.reference.gemmAB };
// The trainer's products at H = 256, E = 64, B = 32; edges of every register block; K above the
// k-block of 256; and small odd shapes.
const SHAPES: [number, number, number][] = [
  [32, 1024, 320],
  [1024, 320, 32],
  [32, 320, 1024],
  [64, 96, 513],
  [13, 49, 17],
  [97, 33, 300],
  [1, 1, 1],
  [5, 3, 7],
  [8, 48, 16],
  [7, 47, 15],
  // Small batches (rows of A as dot products) across more than one task of 96 columns.
  [12, 200, 70],
  [6, 97, 33],
];
// Most rows of A whose A·Bᵀ is formed as dot products, per instruction set (3/4 of the lanes).
const DOT_ROWS: Record<string, number> = { avx512: 12, avx2: 6, portable: 3 };

describe.skipIf(addon === null)('native kernels on each instruction set', () => {
  it.each(isas)('%s: GEMMs, GEMV, ger against the twin', (isa) => {
    expect(addon!.setIsa(isa)).toBe(true);
    expect(K.backendInfo().native.addon!.isa).toBe(isa);
    const rng = new K.Rng(21);
    for (const [M, N, Kd] of SHAPES) {
      for (const name of GEMMS) {
        for (const acc of [false, true]) {
          const A = rand(rng, M * Kd, 'plain');
          const Bm = rand(rng, N * Kd, 'plain');
          const C0 = rand(rng, M * N, 'plain');
          const C = C0.slice();
          const CRef = C0.slice();
          GEMM[name](C, A, Bm, M, N, Kd, acc);
          TWIN[name](CRef, A, Bm, M, N, Kd, acc);
          const bound = new Float32Array(M * N);
          TWIN[name](bound, abs(A), abs(Bm), M, N, Kd);
          if (acc) for (let i = 0; i < bound.length; i++) bound[i] = bound[i]! + Math.abs(C0[i]!);
          const d = maxScaledDiff(C, CRef, bound);
          expect(d, `${isa} ${name} ${M}x${N}x${Kd} acc=${acc}: ${d}`).toBeLessThan(TOL);
        }
      }
      const rows = M;
      const cols = Kd;
      const W = rand(rng, rows * cols, 'plain');
      const x = rand(rng, cols, 'plain');
      const y = new Float32Array(rows);
      const yRef = new Float32Array(rows);
      K.gemv(y, W, x, rows, cols);
      K.reference.gemv(yRef, W, x, rows, cols);
      const bound = new Float32Array(rows);
      K.reference.gemv(bound, abs(W), abs(x), rows, cols);
      expect(maxScaledDiff(y, yRef, bound), `${isa} gemv ${rows}x${cols}`).toBeLessThan(TOL);
      const xt = rand(rng, rows, 'plain');
      const yt = new Float32Array(cols);
      const ytRef = new Float32Array(cols);
      K.gemvT(yt, W, xt, rows, cols);
      K.reference.gemvT(ytRef, W, xt, rows, cols);
      const boundT = new Float32Array(cols);
      K.reference.gemvT(boundT, abs(W), abs(xt), rows, cols);
      expect(maxScaledDiff(yt, ytRef, boundT), `${isa} gemvT ${rows}x${cols}`).toBeLessThan(TOL);
      const Ag = rand(rng, rows * cols, 'plain');
      const AgRef = Ag.slice();
      K.ger(Ag, xt, x, rows, cols, 0.5);
      K.reference.ger(AgRef, xt, x, rows, cols, 0.5);
      expect(maxScaledDiff(Ag, AgRef, AgRef), `${isa} ger ${rows}x${cols}`).toBeLessThan(TOL);
    }
  });

  it.each(isas)('%s: softmax cross-entropy against the twin (vector exp, float64 sums)', (isa) => {
    addon!.setIsa(isa);
    const rng = new K.Rng(23);
    for (const [rows, cols] of [
      [2048, 65],
      [3, 1],
      [5, 16],
      [4, 17],
      [2, 300],
    ] as const) {
      const logits = Float32Array.from({ length: rows * cols }, () => 20 * (rng.uniform() - 0.5));
      const targets = Int32Array.from({ length: rows }, () => Math.floor(rng.uniform() * cols));
      const d = new Float32Array(rows * cols);
      const l = new Float32Array(rows);
      const dRef = new Float32Array(rows * cols);
      const lRef = new Float32Array(rows);
      const total = K.softmaxCrossEntropy(d, l, logits, targets, rows, cols);
      const totalRef = K.reference.softmaxCrossEntropy(dRef, lRef, logits, targets, rows, cols);
      // Probabilities and losses are O(1) or less: an absolute bound of a few float32 roundings.
      let worst = 0;
      for (let i = 0; i < d.length; i++) worst = Math.max(worst, Math.abs(d[i]! - dRef[i]!));
      for (let r = 0; r < rows; r++) worst = Math.max(worst, Math.abs(l[r]! - lRef[r]!) / (1 + Math.abs(lRef[r]!)));
      expect(worst, `${isa} ${rows}x${cols}`).toBeLessThan(1e-6);
      expect(Math.abs(total - totalRef) / (1 + Math.abs(totalRef)), `${isa} total ${rows}x${cols}`).toBeLessThan(1e-6);
    }
    // A NaN logit makes its row's loss and gradient NaN, as in the twin; the other rows stay finite.
    const d = new Float32Array(6);
    const l = new Float32Array(2);
    K.softmaxCrossEntropy(d, l, Float32Array.of(1, Number.NaN, 0, 1, 2, 3), Int32Array.of(0, 2), 2, 3);
    expect(Number.isNaN(l[0]!) && Number.isNaN(d[0]!)).toBe(true);
    expect(Number.isFinite(l[1]!) && d.subarray(3).every(Number.isFinite)).toBe(true);
  });

  it.each(isas)('%s: the Adam update gives the bits of the TypeScript loop', (isa) => {
    addon!.setIsa(isa);
    const rng = new K.Rng(29);
    const n = 1037; // not a multiple of any vector width
    for (const [t, lr, decay, l2] of [
      [1, 2e-3, 1, 0],
      [7, 1e-2, 1, 1e-4],
      [300, 3e-4, 1 - 3e-4 * 0.01, 0],
    ] as const) {
      const params = Float32Array.from({ length: n }, () => 2 * (rng.uniform() - 0.5));
      const grads = Float32Array.from({ length: n }, () => 0.1 * (rng.uniform() - 0.5));
      const m = Float32Array.from({ length: n }, () => 0.01 * (rng.uniform() - 0.5));
      const v = Float32Array.from({ length: n }, () => 1e-4 * rng.uniform());
      const hyper = [lr / (1 - 0.9 ** t), Math.sqrt(1 - 0.999 ** t), 0.9, 0.999, 1e-8, decay, l2] as const;
      const ref = [params.slice(), grads.slice(), m.slice(), v.slice()] as const;
      K.adamUpdate(params, grads, m, v, ...hyper);
      K.setBackend('js');
      try {
        K.adamUpdate(ref[0], ref[1], ref[2], ref[3], ...hyper);
      } finally {
        K.setBackend('native');
      }
      expect(params, `${isa} t=${t} params`).toEqual(ref[0]);
      expect(m, `${isa} t=${t} m`).toEqual(ref[2]);
      expect(v, `${isa} t=${t} v`).toEqual(ref[3]);
    }
  });

  it.each(isas)('%s: A·Bᵀ of a small batch gives each row the bits of gemv', (isa) => {
    addon!.setIsa(isa);
    const rng = new K.Rng(23);
    const most = DOT_ROWS[isa]!;
    for (const [N, Kd] of [
      [1024, 320],
      [65, 256],
      [97, 33],
    ] as const) {
      for (let M = 1; M <= most; M++) {
        const A = rand(rng, M * Kd, 'plain');
        const Bm = rand(rng, N * Kd, 'plain');
        const C0 = rand(rng, M * N, 'plain');
        for (const acc of [false, true]) {
          const C = C0.slice();
          K.gemmABt(C, A, Bm, M, N, Kd, acc);
          for (let i = 0; i < M; i++) {
            const y = C0.slice(i * N, (i + 1) * N);
            K.gemv(y, Bm, A.subarray(i * Kd, (i + 1) * Kd), N, Kd, acc);
            expect(C.subarray(i * N, (i + 1) * N), `${isa} M=${M} N=${N} K=${Kd} row ${i} acc=${acc}`).toEqual(y);
          }
        }
      }
    }
  });

  it.each(isas)('%s: gate kernels and fused steps against the twin', (isa) => {
    addon!.setIsa(isa);
    const rng = new K.Rng(22);
    for (const [B, H] of [
      [1, 1],
      [3, 17],
      [2, 64],
      [1, 257],
      // Past the addon's 8192 units, so row blocks (of 31 rows here, the last one short) run as pool tasks.
      [67, 130],
    ] as const) {
      const r = (n: number, s = 2) => rand(rng, n, 'plain', -s, s);
      const u = (n: number) => rand(rng, n, 'plain', 0.02, 0.98);
      const run = (
        label: string,
        outs: number[],
        args: Float32Array[],
        f: (impl: typeof K, a: Float32Array[]) => void,
      ) => {
        const mine = args.map((a) => a.slice());
        const ref = args.map((a) => a.slice());
        f(K, mine);
        f(K.reference as unknown as typeof K, ref);
        for (const o of outs) {
          const d = maxScaledDiff(mine[o]!, ref[o]!, ref[o]!);
          expect(d, `${isa} ${label} B=${B} H=${H} output ${o}: ${d}`).toBeLessThan(TOL);
        }
      };
      const bh = B * H;
      run('rnnForward', [0], [r(bh), r(bh)], (k, a) => k.rnnForward(a[0]!, a[1]!, B, H));
      run('rnnBackward', [0], [r(bh), r(bh), r(bh, 0.9)], (k, a) => k.rnnBackward(a[0]!, a[1]!, a[2]!, B, H));
      run('lstmForward', [0, 1, 2], [r(bh), r(bh), r(4 * bh), r(4 * bh), r(bh)], (k, a) =>
        k.lstmForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, H),
      );
      run('lstmBackward', [0, 1], [r(4 * bh), r(bh), r(bh), r(bh), u(4 * bh), r(bh), r(bh)], (k, a) =>
        k.lstmBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, B, H),
      );
      run('gruForward', [0, 1], [r(bh), r(3 * bh), r(3 * bh), r(3 * bh), r(bh)], (k, a) =>
        k.gruForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, H),
      );
      run('gruBackward', [0, 1, 2], [r(3 * bh), r(3 * bh), r(bh), r(bh), u(3 * bh), r(3 * bh), r(bh)], (k, a) =>
        k.gruBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, B, H),
      );
      run('gruRzForward', [0, 1], [r(3 * bh), r(bh), r(3 * bh), r(2 * bh), r(bh)], (k, a) =>
        k.gruRzForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, H),
      );
      run('gruNForward', [0, 1], [r(bh), u(3 * bh), r(3 * bh), r(bh), r(bh)], (k, a) =>
        k.gruNForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, H),
      );
      run('gruNBackward', [0, 1, 2], [r(3 * bh), r(bh), r(bh), r(bh), u(3 * bh), r(bh)], (k, a) =>
        k.gruNBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, B, H),
      );
      run('gruRzBackward', [0, 1, 2], [r(3 * bh), r(2 * bh), r(bh), r(bh), u(3 * bh), r(bh)], (k, a) =>
        k.gruRzBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, B, H),
      );
      if (B !== 1) continue;
      for (const nX of [0, 5]) {
        const s = 0.3;
        run(
          'lstmStep',
          [0, 1, 2, 3],
          [r(H), r(H), r(4 * H), r(4 * H), r(4 * H * nX, s), r(nX), r(4 * H * H, s), r(4 * H)],
          (k, a) => k.lstmStep(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, nX, H),
        );
        run(
          'gruStep',
          [0, 1, 2, 3],
          [r(H), r(3 * H), r(3 * H), r(3 * H), r(3 * H * nX, s), r(nX), r(3 * H * H, s), r(3 * H), r(3 * H)],
          (k, a) => k.gruStep(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, nX, H),
        );
        run('rnnStep', [0, 1], [r(H), r(H), r(H * nX, s), r(nX), r(H * H, s), r(H)], (k, a) =>
          k.rnnStep(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, nX, H),
        );
      }
    }
  });
});

describe.skipIf(addon === null)('native results do not depend on threads or on the run', () => {
  afterAll(() => K.setStepThreads(1));

  it('GEMMs and steps give identical bits with 1 and 2 threads, run after run', async () => {
    addon!.setIsa('');
    const rng = new K.Rng(23);
    for (const [M, N, Kd] of [
      [32, 1024, 320],
      [1024, 320, 32],
      [64, 2048, 512],
    ] as const) {
      const A = rand(rng, M * Kd, 'plain');
      const Bm = rand(rng, N * Kd, 'plain');
      for (const name of GEMMS) {
        const outs: Float32Array[] = [];
        for (const t of [1, 2, 1, 2]) {
          K.setNativeThreads(t);
          const C = new Float32Array(M * N);
          GEMM[name](C, A, Bm, M, N, Kd);
          outs.push(C);
        }
        for (const o of outs.slice(1))
          expect(Buffer.compare(Buffer.from(o.buffer), Buffer.from(outs[0]!.buffer))).toBe(0);
      }
    }
    // A step of LSTM-512 shares its rows with setStepThreads(2): the same bits as one thread.
    const H = 512;
    const nX = 64;
    const args = [H, H, 4 * H, 4 * H, 4 * H * nX, nX, 4 * H * H, 4 * H].map((n) => rand(rng, n, 'plain', -0.1, 0.1));
    const step = () => {
      const a = args.map((x) => x.slice());
      for (let i = 0; i < 5; i++) K.lstmStep(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, nX, H);
      return a[0]!;
    };
    // Gate kernels of a large batch run row blocks on the pool: the same bits as one thread.
    const [B, G] = [64, 512];
    const gates: [string, number[], (a: Float32Array[]) => void][] = [
      ['lstmForward', [1, 1, 4, 4, 1], (a) => K.lstmForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, G)],
      [
        'lstmBackward',
        [4, 1, 1, 1, 4, 1, 1],
        (a) => K.lstmBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, B, G),
      ],
      ['gruForward', [1, 3, 3, 3, 1], (a) => K.gruForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, G)],
      ['gruRzBackward', [3, 2, 1, 1, 3, 1], (a) => K.gruRzBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, B, G)],
      ['rnnForward', [1, 1], (a) => K.rnnForward(a[0]!, a[1]!, B, G)],
    ];
    for (const [name, mult, f] of gates) {
      const inputs = mult.map((m) => rand(rng, m * B * G, 'plain', 0.05, 0.95));
      const outs: Float32Array[][] = [];
      for (const t of [1, 2, 1, 2]) {
        K.setNativeThreads(t);
        const a = inputs.map((x) => x.slice());
        const jobs = K.backendInfo().native.addon!.shared;
        f(a);
        if (t === 2) expect(K.backendInfo().native.addon!.shared, `${name} on the pool`).toBeGreaterThan(jobs);
        outs.push(a);
      }
      for (const o of outs.slice(1))
        for (const [i, x] of o.entries())
          expect(Buffer.compare(Buffer.from(x.buffer), Buffer.from(outs[0]![i]!.buffer)), `${name} arg ${i}`).toBe(0);
    }
    K.setNativeThreads(2);
    await K.setStepThreads(1);
    const one = step();
    await K.setStepThreads(2, { minWeights: 1 });
    expect(K.getStepThreads()).toMatchObject({ threads: 2, backend: 'native' });
    const before = K.backendInfo().native.addon!.jobs;
    const two = step();
    expect(K.backendInfo().native.addon!.jobs).toBeGreaterThan(before);
    expect([...two]).toEqual([...one]);
  });

  it('setNativeThreads clamps to the CPUs and rejects non-integers', () => {
    const cpus = K.backendInfo().native.addon!.cpus;
    expect(K.setNativeThreads(1)).toBe(1);
    expect(K.setNativeThreads(1000)).toBe(cpus);
    expect(() => K.setNativeThreads(0)).toThrow(
      new RangeError('setNativeThreads: threads must be a positive integer, got 0'),
    );
    expect(() => K.setNativeThreads(1.5)).toThrow(RangeError);
    K.setNativeThreads(threads0);
  });
});

describe.skipIf(addon === null)('the addon checks lengths itself', () => {
  it('refuses arrays shorter than the dims say, and non-Float32Arrays, without touching memory', () => {
    const f = (n: number) => new Float32Array(n);
    expect(() => addon!.gemmABt(f(4), f(4), f(3), 2, 2, 2, 0)).toThrow(
      new RangeError('gemmABt: Bm length 3, expected 4'),
    );
    expect(() => addon!.lstmStep(f(4), f(4), f(16), f(16), f(48), f(3), f(64), f(15), 3, 4)).toThrow(
      new RangeError('lstmStep: b length 15, expected 16'),
    );
    expect(() => addon!.gemv(f(2), new Float64Array(4) as unknown as Float32Array, f(2), 2, 2, 0)).toThrow(
      new TypeError('gemv: W must be a Float32Array'),
    );
    expect(() => addon!.gemv(f(2), f(4), f(2), 2, -2, 0)).toThrow(
      new RangeError('gemv: cols must be a non-negative integer'),
    );
    expect(() => addon!.adamUpdate!(f(4), f(4), f(3), f(4), 1, 1, 0.9, 0.999, 1e-8, 1, 0)).toThrow(
      new RangeError('adamUpdate: m length 3, expected 4'),
    );
    expect(() => addon!.adamUpdate!(f(4), f(4), f(4), f(4), 1, Number.NaN, 0.9, 0.999, 1e-8, 1, 0)).toThrow(
      new RangeError('adamUpdate: the hyperparameters must be finite numbers'),
    );
    // Called directly, past the TypeScript checks: a target out of range would index outside dLogits.
    expect(() => addon!.softmaxCrossEntropy!(f(6), f(2), f(6), Int32Array.of(0, 3), 2, 3)).toThrow(
      new RangeError('softmaxCrossEntropy: a target is outside [0, cols)'),
    );
    expect(() => addon!.softmaxCrossEntropy!(f(5), f(2), f(6), Int32Array.of(0, 1), 2, 3)).toThrow(
      new RangeError('softmaxCrossEntropy: dLogits length 5, expected 6'),
    );
    expect(() =>
      addon!.softmaxCrossEntropy!(f(6), f(2), f(6), Float32Array.of(0, 1) as unknown as Int32Array, 2, 3),
    ).toThrow(new TypeError('softmaxCrossEntropy: targets must be an attached Int32Array'));
    expect(() => addon!.setIsa('avx9000')).not.toThrow();
    expect(addon!.setIsa('avx9000')).toBe(false);
  });

  it('a bound streaming step refuses a buffer detached after binding (no stale pointer is read)', () => {
    const H = 8;
    const nX = 3;
    const f = (n: number) => new Float32Array(n).fill(0.1);
    const h = f(H);
    const args = [f(H), f(4 * H), f(4 * H), f(4 * H * nX), f(nX), f(4 * H * H), f(4 * H)] as const;
    const step = () => K.lstmStep(h, ...args, nX, H);
    step();
    step(); // bound now: the addon keeps the pointers of these arrays
    structuredClone(h.buffer, { transfer: [h.buffer] });
    expect(h.length).toBe(0);
    expect(step).toThrow(new RangeError('lstmStep: h length 0, expected H = 8'));
    // A fresh array in the same position rebinds and runs.
    const h2 = f(H);
    K.lstmStep(h2, ...args, nX, H);
    expect(h2.every(Number.isFinite)).toBe(true);
  });

  it('allocF32 hands out 64-byte aligned ordinary arrays', () => {
    const a = K.allocF32(100);
    expect(a.buffer instanceof ArrayBuffer).toBe(true);
    expect(addon!.address64(a)).toBe(0);
    expect([...a.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
  });
});
