// setStepThreads: a helper thread sharing the rows of batch-1 steps. The shared steps must be
// bitwise the one-thread steps (every kernel, odd sizes, chunk edges, no input term), the helper
// must really take part, sleep and wake, stop cleanly, and never keep a process alive.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { rand } from './helpers.js';

const initial = K.getBackend();
beforeAll(() => K.setBackend('wasm'));
afterEach(() => K.setStepThreads(1, { spinMicros: 2000, minWeights: 131072, adaptive: true }));
afterAll(() => K.setBackend(initial));

type Kind = 'lstm' | 'gru' | 'rnn';
const GATES: Record<Kind, number> = { lstm: 4, gru: 3, rnn: 1 };

/** One cell's step arguments in WASM memory; `run` steps it once in place. */
function stepper(kind: Kind, nX: number, H: number, seed: number) {
  const rng = new K.Rng(seed);
  const G = GATES[kind];
  const s = 1 / Math.sqrt(Math.max(1, nX + H));
  const Wih = rand(rng, G * H * nX, 'wasm-memory', -s, s);
  const Whh = rand(rng, G * H * H, 'wasm-memory', -3 * s, 3 * s);
  const b1 = rand(rng, G * H, 'wasm-memory');
  const b2 = rand(rng, G * H, 'wasm-memory');
  const x = rand(rng, nX, 'wasm-memory');
  const h = K.allocF32(H);
  const c = K.allocF32(H);
  const act = K.allocF32(G * H);
  const p1 = K.allocF32(G * H);
  const p2 = K.allocF32(G * H);
  const run = (): void => {
    if (kind === 'lstm') K.lstmStep(h, c, act, p1, Wih, x, Whh, b1, nX, H);
    else if (kind === 'gru') K.gruStep(h, act, p1, p2, Wih, x, Whh, b1, b2, nX, H);
    else K.rnnStep(h, p1, Wih, x, Whh, b1, nX, H);
  };
  const reset = (): void => {
    h.fill(0);
    c.fill(0);
  };
  /** Everything a step writes, as a list of numbers. */
  const outputs = (): number[] => [...h, ...c, ...act, ...p1, ...p2];
  return { run, reset, outputs, x };
}

/** Outputs after `n` steps from a zero state, on the current thread setting. */
function trajectory(s: ReturnType<typeof stepper>, n: number): number[][] {
  s.reset();
  const out: number[][] = [];
  for (let t = 0; t < n; t++) {
    s.run();
    out.push(s.outputs());
  }
  return out;
}

describe('shared steps are bitwise the one-thread steps', () => {
  // H = 5, 65, 257: row counts that are not multiples of six or of the chunk size; 512 the large case.
  const cases = (['lstm', 'gru', 'rnn'] as const).flatMap((kind) =>
    [1, 5, 65, 257, 512].flatMap((H) => [0, 7, 64].map((nX) => ({ kind, H, nX }))),
  );
  it.each(cases)('$kind H=$H n_x=$nX', async ({ kind, H, nX }) => {
    const s = stepper(kind, nX, H, H * 31 + nX);
    const one = trajectory(s, 6);
    await K.setStepThreads(2, { minWeights: 0, adaptive: false });
    const before = K.getStepThreads().steps;
    const two = trajectory(s, 6);
    expect(K.getStepThreads().steps - before).toBe(6);
    for (let t = 0; t < 6; t++) expect(two[t], `step ${t}`).toEqual(one[t]);
  });
});

describe('adaptive sharing (the default) is bitwise too, alone or shared', () => {
  it.each(['lstm', 'gru', 'rnn'] as const)(
    '%s: 80 steps across the lone reference window and the shared ones',
    async (kind) => {
      const s = stepper(kind, 64, kind === 'rnn' ? 400 : 256, 17);
      const one = trajectory(s, 80);
      await K.setStepThreads(2, { minWeights: 0, adaptive: true });
      const two = trajectory(s, 80);
      const info = K.getStepThreads();
      expect(info.steps).toBe(80);
      for (let t = 0; t < 80; t++) expect(two[t], `step ${t}`).toEqual(one[t]);
    },
  );
});

describe('shared batched products (gemmABt) are bitwise the one-thread ones', () => {
  // M = 8, 13, 66: whole four-row blocks, leftover rows, several chunks; odd N and K (= D) for the tails.
  const cases = [8, 13, 66].flatMap((M) =>
    [
      [5, 3],
      [67, 129],
      [256, 64],
    ].flatMap(([N, D]) => [0, 1].map((acc) => ({ M, N: N!, D: D!, acc: acc === 1 }))),
  );
  it.each(cases)('M=$M N=$N K=$D acc=$acc', async ({ M, N, D, acc }) => {
    const rng = new K.Rng(M * 1000 + N + D);
    const A = rand(rng, M * D, 'wasm-memory');
    const Bm = rand(rng, N * D, 'wasm-memory');
    const C0 = rand(rng, M * N, 'wasm-memory');
    const one = K.allocF32(M * N);
    const two = K.allocF32(M * N);
    one.set(C0);
    two.set(C0);
    K.gemmABt(one, A, Bm, M, N, D, acc);
    await K.setStepThreads(2, { minWeights: 0, adaptive: false });
    const before = K.getStepThreads().gemms;
    K.gemmABt(two, A, Bm, M, N, D, acc);
    expect(K.getStepThreads().gemms - before).toBe(1);
    expect([...two]).toEqual([...one]);
  });

  it('the helper takes a share of the rows, its results added in exactly', async () => {
    await K.setStepThreads(2, { minWeights: 0, spinMicros: 100_000, adaptive: false });
    const rng = new K.Rng(4);
    const M = 64;
    const N = 512;
    const D = 256;
    const A = rand(rng, M * D, 'wasm-memory');
    const Bm = rand(rng, N * D, 'wasm-memory');
    const C0 = rand(rng, M * N, 'wasm-memory');
    const one = K.allocF32(M * N);
    const two = K.allocF32(M * N);
    const until = performance.now() + 10_000;
    do {
      await K.setStepThreads(1);
      one.set(C0);
      K.gemmABt(one, A, Bm, M, N, D, true);
      await K.setStepThreads(2, { minWeights: 0, spinMicros: 100_000, adaptive: false });
      for (let i = 0; i < 20 && K.getStepThreads().helperChunks === 0; i++) {
        two.set(C0);
        K.gemmABt(two, A, Bm, M, N, D, true);
        expect([...two]).toEqual([...one]);
      }
    } while (K.getStepThreads().helperChunks === 0 && performance.now() < until);
    expect(K.getStepThreads().helperChunks).toBeGreaterThan(0);
  });

  it('small batches (M < 8) stay on the calling thread', async () => {
    await K.setStepThreads(2, { minWeights: 0, adaptive: false });
    const rng = new K.Rng(1);
    const M = 7;
    const N = 64;
    const D = 64;
    K.gemmABt(K.allocF32(M * N), rand(rng, M * D, 'wasm-memory'), rand(rng, N * D, 'wasm-memory'), M, N, D);
    expect(K.getStepThreads().gemms).toBe(0);
  });
});

describe('setStepThreads', () => {
  it('the helper takes a share of the rows', async () => {
    await K.setStepThreads(2, { minWeights: 0, spinMicros: 100_000, adaptive: false });
    const s = stepper('lstm', 64, 512, 3);
    const until = performance.now() + 10_000;
    while (K.getStepThreads().helperChunks === 0 && performance.now() < until) s.run();
    const info = K.getStepThreads();
    expect(info.threads).toBe(2);
    expect(info.helperChunks).toBeGreaterThan(0);
    expect(info.helperChunks).toBeLessThanOrEqual(info.chunks);
  });

  it('steps below minWeights stay on the calling thread', async () => {
    await K.setStepThreads(2, { minWeights: 4 * 40 * (8 + 40) + 1, adaptive: false });
    const small = stepper('lstm', 8, 40, 1);
    small.run();
    expect(K.getStepThreads().steps).toBe(0);
    const large = stepper('lstm', 8, 41, 1);
    large.run();
    expect(K.getStepThreads().steps).toBe(1);
  });

  it('a sleeping helper is woken and results stay exact', async () => {
    const s = stepper('gru', 64, 256, 9);
    const one = trajectory(s, 4);
    await K.setStepThreads(2, { minWeights: 0, spinMicros: 0, adaptive: false });
    s.reset();
    for (let t = 0; t < 4; t++) {
      // The helper has gone to sleep in Atomics.wait by now; the step notifies it.
      await new Promise((r) => setTimeout(r, 5));
      s.run();
      expect(s.outputs()).toEqual(one[t]);
    }
  });

  it('stops, restarts and reports one thread when stopped', async () => {
    await K.setStepThreads(2);
    expect(K.getStepThreads().threads).toBe(2);
    await K.setStepThreads(1);
    expect(K.getStepThreads()).toMatchObject({ threads: 1, steps: 0, helperChunks: 0 });
    await K.setStepThreads(2, { minWeights: 0, adaptive: false });
    const s = stepper('rnn', 3, 300, 2);
    s.run();
    expect(K.getStepThreads().steps).toBe(1);
  });

  it('rejects bad arguments and the js backend with clear errors', async () => {
    expect(() => K.setStepThreads(3 as 2)).toThrow(new RangeError('setStepThreads: expected 1 or 2 threads, got 3'));
    expect(() => K.setStepThreads(2, { spinMicros: -1 })).toThrow(
      new RangeError('setStepThreads: spinMicros must be a non-negative integer, got -1'),
    );
    expect(() => K.setStepThreads(2, { minWeights: 0.5 })).toThrow(
      new RangeError('setStepThreads: minWeights must be a non-negative integer, got 0.5'),
    );
    expect(() => K.setStepThreads(2, { adaptive: 'yes' as unknown as boolean })).toThrow(
      new TypeError('setStepThreads: adaptive must be a boolean, got yes'),
    );
    K.setBackend('js');
    try {
      await expect(K.setStepThreads(2)).rejects.toThrow(/needs the wasm backend on a shared WebAssembly.Memory/);
      expect(K.getStepThreads().threads).toBe(1);
    } finally {
      K.setBackend('wasm');
    }
  });

  it('a process that never stops its helper still exits', () => {
    const script = fileURLToPath(new URL('./fixtures/exit-with-helper.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@rxrnn/source', script], {
      encoding: 'utf8',
    });
    expect(r.error, String(r.error)).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^shared \d+ steps, helper ran \d+ of \d+ chunks$/);
  });
});
