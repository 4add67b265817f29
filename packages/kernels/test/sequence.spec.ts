// lstmSequence, the LSTM forward over a window without a tape: on every backend against the
// reference twin (the per-step composition of the reference gemmABt and lstmForward, float64 per
// element) within a relative 1e-5; on the native addon, on each instruction set, bit for bit the
// composition of that addon's own gemmABt and lstmForward when the batch is past the GEMM's
// small-batch cut; identical bits with 1 and 2 threads; the checks in TypeScript and in C.
import { afterAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { loadNative } from '../src/native.js';
import { FAST_BACKENDS, maxScaledDiff, rand } from './helpers.js';

const TOL = 1e-5;
const addon = loadNative();
const initial = K.getBackend();
const isas = addon ? addon.info().available : [];
const threads0 = addon ? addon.info().threads : 1;
afterAll(() => {
  addon?.setIsa('');
  addon?.setThreads(threads0);
  K.setBackend(initial);
});

/** Rows of A at or below which the addon's gemmABt forms dot products (see native.spec.ts). */
const DOT_ROWS: Record<string, number> = { avx512: 12, avx2: 6, portable: 3 };

interface Case {
  H: number;
  B: number;
  T: number;
  nX: number;
}
// Whole and partial lane groups, H off the 16-unit task blocks, nX = 0, and n_x and H past the
// 512-long k-blocks (two partial sums per product).
const CASES: Case[] = [
  { H: 37, B: 20, T: 5, nX: 3 },
  { H: 64, B: 64, T: 3, nX: 16 },
  { H: 16, B: 70, T: 2, nX: 0 },
  { H: 24, B: 5, T: 4, nX: 7 },
  { H: 8, B: 1, T: 6, nX: 2 },
  { H: 20, B: 13, T: 2, nX: 530 },
  { H: 520, B: 17, T: 2, nX: 4 },
];

function inputs(c: Case, seed: number) {
  const rng = new K.Rng(seed);
  const G = 4 * c.H;
  return {
    state: rand(rng, 2 * c.B * c.H, 'plain', -0.8, 0.8),
    x: rand(rng, c.T * c.B * c.nX, 'plain', -1.5, 1.5),
    Wih: rand(rng, G * c.nX, 'plain', -0.3, 0.3),
    Whh: rand(rng, G * c.H, 'plain', -0.3, 0.3),
    bias: rand(rng, G, 'plain', -0.5, 0.5),
  };
}

type Sequence = typeof K.lstmSequence;

/** Runs one implementation on fresh copies: the outputs and the advanced state. */
function run(f: Sequence, c: Case, seed: number): { out: Float32Array; state: Float32Array } {
  const a = inputs(c, seed);
  const out = new Float32Array(c.T * c.B * c.H).fill(Number.NaN);
  f(out, a.state, a.x, a.Wih, a.Whh, a.bias, c.T, c.B, c.nX, c.H);
  return { out, state: a.state };
}

/** The composition on the active backend's public kernels (what the addon must reproduce). */
const composed: Sequence = (out, state, x, Wih, Whh, bias, T, B, nX, H) => {
  const n = B * H;
  const G = 4 * H;
  const pre = new Float32Array(B * G);
  const act = new Float32Array(B * G);
  let [h, hN, c, cN] = [state.slice(0, n), new Float32Array(n), state.slice(n), new Float32Array(n)];
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) pre.set(bias, b * G);
    K.gemmABt(pre, x.subarray(t * B * nX, (t + 1) * B * nX), Wih, B, G, nX, true);
    K.gemmABt(pre, h, Whh, B, G, H, true);
    K.lstmForward(hN, cN, act, pre, c, B, H);
    out.set(hN, t * n);
    [h, hN, c, cN] = [hN, h, cN, c];
  }
  state.set(h, 0);
  state.set(c, n);
};

function expectClose(label: string, mine: { out: Float32Array; state: Float32Array }, ref: typeof mine): void {
  for (const key of ['out', 'state'] as const) {
    const d = maxScaledDiff(mine[key], ref[key], ref[key]);
    expect(d, `${label} ${key}: ${d}`).toBeLessThan(TOL);
  }
}

describe('lstmSequence against the reference twin', () => {
  it.each(['js', ...FAST_BACKENDS] as const)('%s backend', (backend) => {
    K.setBackend(backend);
    for (const [i, c] of CASES.entries()) {
      const ref = run(K.reference.lstmSequence, c, 100 + i);
      expect(ref.out.some(Number.isNaN)).toBe(false);
      expectClose(`${backend} ${JSON.stringify(c)}`, run(K.lstmSequence, c, 100 + i), ref);
    }
    K.setBackend(initial);
  });

  it('the js backend runs exactly the twin', () => {
    K.setBackend('js');
    const c = CASES[0]!;
    const [a, b] = [run(K.lstmSequence, c, 7), run(K.reference.lstmSequence, c, 7)];
    expect([...a.out]).toEqual([...b.out]);
    expect([...a.state]).toEqual([...b.state]);
    K.setBackend(initial);
  });
});

describe.skipIf(addon === null)('lstmSequence on the native addon', () => {
  it.each(isas)('%s: the bits of gemmABt + lstmForward per step past the small-batch cut', (isa) => {
    K.setBackend('native');
    expect(addon!.setIsa(isa)).toBe(true);
    for (const [i, c] of CASES.entries()) {
      const mine = run(K.lstmSequence, c, 200 + i);
      const comp = run(composed, c, 200 + i);
      const label = `${isa} ${JSON.stringify(c)}`;
      if (c.B > DOT_ROWS[isa]!) {
        expect([...mine.out], label).toEqual([...comp.out]);
        expect([...mine.state], label).toEqual([...comp.state]);
      } else expectClose(label, mine, comp);
    }
    addon!.setIsa('');
    K.setBackend(initial);
  });

  it('identical bits with 1 and 2 threads (the steps share the pool), run after run', () => {
    K.setBackend('native');
    // B·4H·(nX + H) past the addon's sharing threshold.
    const c: Case = { H: 128, B: 40, T: 3, nX: 24 };
    const outs: Float32Array[] = [];
    for (const t of [1, 2, 1, 2]) {
      K.setNativeThreads(t);
      const jobs = K.backendInfo().native.addon!.shared;
      const r = run(K.lstmSequence, c, 300);
      if (t === 2) expect(K.backendInfo().native.addon!.shared).toBeGreaterThan(jobs);
      outs.push(r.out, r.state);
    }
    for (let i = 2; i < outs.length; i++)
      expect(Buffer.compare(Buffer.from(outs[i]!.buffer), Buffer.from(outs[i % 2]!.buffer))).toBe(0);
    K.setNativeThreads(threads0);
    K.setBackend(initial);
  });

  it('the addon checks every length itself', () => {
    const f = (n: number) => new Float32Array(n);
    // out, state, x, Wih, Whh, bias for T 2, B 3, nX 4, H 5, each one short in turn.
    const sizes = [30, 30, 24, 80, 100, 20];
    const names = ['out', 'state', 'x', 'Wih', 'Whh', 'b'];
    for (const [i, name] of names.entries()) {
      const args = sizes.map((n, j) => f(j === i ? n - 1 : n));
      expect(() =>
        addon!.lstmSequence!(
          ...(args as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array]),
          2,
          3,
          4,
          5,
        ),
      ).toThrow(new RangeError(`lstmSequence: ${name} length ${sizes[i]! - 1}, expected ${sizes[i]}`));
    }
  });
});

describe('lstmSequence checks its arguments before touching anything', () => {
  const c: Case = { H: 3, B: 2, T: 2, nX: 4 };
  it('lengths, kinds and dims', () => {
    const a = inputs(c, 1);
    const out = new Float32Array(c.T * c.B * c.H);
    expect(() => K.lstmSequence(out, a.state, a.x.subarray(1), a.Wih, a.Whh, a.bias, 2, 2, 4, 3)).toThrow(
      new RangeError('lstmSequence: x length 15, expected T*B*nX = 16'),
    );
    expect(() => K.lstmSequence(out, a.state, a.x, a.Wih, a.Whh, a.bias.subarray(1), 2, 2, 4, 3)).toThrow(
      new RangeError('lstmSequence: bias length 11, expected 4H = 12'),
    );
    expect(() => K.lstmSequence(out, a.state, a.x, a.Wih, a.Whh, a.bias, 2, 2.5, 4, 3)).toThrow(RangeError);
    expect(() => K.lstmSequence(out, [0] as unknown as Float32Array, a.x, a.Wih, a.Whh, a.bias, 2, 2, 4, 3)).toThrow(
      TypeError,
    );
    expect([...out].every((v) => v === 0)).toBe(true);
  });

  it('out or state sharing memory with another argument', () => {
    const a = inputs(c, 2);
    const buf = new Float32Array(12 + 12);
    const out = buf.subarray(0, 12);
    expect(() => K.lstmSequence(out, buf.subarray(11, 23), a.x, a.Wih, a.Whh, a.bias, 2, 2, 4, 3)).toThrow(
      new RangeError('lstmSequence: out shares memory with state; pass separate arrays'),
    );
    const w = new Float32Array(48 + 12);
    expect(() =>
      K.lstmSequence(new Float32Array(12), w.subarray(30, 42), a.x, a.Wih, w.subarray(0, 36), a.bias, 2, 2, 4, 3),
    ).toThrow(new RangeError('lstmSequence: state shares memory with Whh; pass separate arrays'));
  });

  it('T = 0 touches nothing', () => {
    const a = inputs(c, 3);
    const s = a.state.slice();
    K.lstmSequence(new Float32Array(0), a.state, new Float32Array(0), a.Wih, a.Whh, a.bias, 0, 2, 4, 3);
    expect([...a.state]).toEqual([...s]);
  });
});
