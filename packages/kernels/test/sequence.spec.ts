// lstmSequence and gruSequence, a cell's forward over a window without a tape: on every backend
// against the reference twin (the per-step composition of the reference gemmABt and lstmForward /
// gruForward, float64 per element) within a relative 1e-5; on the native addon, on each
// instruction set, bit for bit the same composition of that addon's own kernels when the batch is
// past the GEMM's small-batch cut; identical bits with 1 and 2 threads; the checks in TypeScript
// and in C.
import { afterAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { loadNative } from '../src/native.js';
import { type SequenceWindow, sequenceCore } from '../src/reference/sequence.js';
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

type Kind = 'lstm' | 'gru';
const KINDS: Kind[] = ['lstm', 'gru'];

/** A window's arrays for one kind (GRU: state h only, and b_hn). */
function inputs(kind: Kind, c: Case, seed: number): SequenceWindow {
  const rng = new K.Rng(seed);
  const G = (kind === 'lstm' ? 4 : 3) * c.H;
  return {
    out: new Float32Array(c.T * c.B * c.H).fill(Number.NaN),
    state: rand(rng, (kind === 'lstm' ? 2 : 1) * c.B * c.H, 'plain', -0.8, 0.8),
    x: rand(rng, c.T * c.B * c.nX, 'plain', -1.5, 1.5),
    Wih: rand(rng, G * c.nX, 'plain', -0.3, 0.3),
    Whh: rand(rng, G * c.H, 'plain', -0.3, 0.3),
    bias: rand(rng, G, 'plain', -0.5, 0.5),
    bHn: kind === 'lstm' ? null : rand(rng, c.H, 'plain', -0.5, 0.5),
    ...c,
  };
}

/** An implementation of the window: the public kernel, the reference twin, or a composition. */
type Impl = (w: SequenceWindow) => void;
const PUBLIC: Impl = (w) =>
  w.bHn === null
    ? K.lstmSequence(w.out, w.state, w.x, w.Wih, w.Whh, w.bias, w.T, w.B, w.nX, w.H)
    : K.gruSequence(w.out, w.state, w.x, w.Wih, w.Whh, w.bias, w.bHn, w.T, w.B, w.nX, w.H);
const TWIN: Impl = (w) =>
  w.bHn === null
    ? K.reference.lstmSequence(w.out, w.state, w.x, w.Wih, w.Whh, w.bias, w.T, w.B, w.nX, w.H)
    : K.reference.gruSequence(w.out, w.state, w.x, w.Wih, w.Whh, w.bias, w.bHn, w.T, w.B, w.nX, w.H);
/** The per-step composition on the active backend's public kernels (what the addon must reproduce). */
const COMPOSED: Impl = (w) =>
  sequenceCore(
    {
      gemmABt: K.gemmABt,
      lstmForward: K.lstmForward,
      gruForward: K.gruForward,
      alloc: (n) => new Float32Array(n),
      free: () => {},
    },
    w,
  );

/** Runs one implementation on fresh arrays: the outputs and the advanced state. */
function run(f: Impl, kind: Kind, c: Case, seed: number): { out: Float32Array; state: Float32Array } {
  const w = inputs(kind, c, seed);
  f(w);
  return { out: w.out, state: w.state };
}

function expectClose(label: string, mine: { out: Float32Array; state: Float32Array }, ref: typeof mine): void {
  for (const key of ['out', 'state'] as const) {
    const d = maxScaledDiff(mine[key], ref[key], ref[key]);
    expect(d, `${label} ${key}: ${d}`).toBeLessThan(TOL);
  }
}

describe.each(KINDS)('%sSequence against the reference twin', (kind) => {
  it.each(['js', ...FAST_BACKENDS] as const)('%s backend', (backend) => {
    K.setBackend(backend);
    for (const [i, c] of CASES.entries()) {
      const ref = run(TWIN, kind, c, 100 + i);
      expect(ref.out.some(Number.isNaN)).toBe(false);
      expectClose(`${backend} ${JSON.stringify(c)}`, run(PUBLIC, kind, c, 100 + i), ref);
    }
    K.setBackend(initial);
  });

  it('the js backend runs exactly the twin', () => {
    K.setBackend('js');
    const c = CASES[0]!;
    const [a, b] = [run(PUBLIC, kind, c, 7), run(TWIN, kind, c, 7)];
    expect([...a.out]).toEqual([...b.out]);
    expect([...a.state]).toEqual([...b.state]);
    K.setBackend(initial);
  });
});

describe.skipIf(addon === null).each(KINDS)('%sSequence on the native addon', (kind) => {
  it.each(isas)('%s: the bits of the per-step composition past the small-batch cut', (isa) => {
    K.setBackend('native');
    expect(addon!.setIsa(isa)).toBe(true);
    for (const [i, c] of CASES.entries()) {
      const mine = run(PUBLIC, kind, c, 200 + i);
      const comp = run(COMPOSED, kind, c, 200 + i);
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
    // B·G·H·(nX + H) past the addon's sharing threshold.
    const c: Case = { H: 128, B: 40, T: 3, nX: 24 };
    const outs: Float32Array[] = [];
    for (const t of [1, 2, 1, 2]) {
      K.setNativeThreads(t);
      const jobs = K.backendInfo().native.addon!.shared;
      const r = run(PUBLIC, kind, c, 300);
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
    // out, state, x, Wih, Whh, b (, bHn) for T 2, B 3, nX 4, H 5, each one short in turn.
    const G = kind === 'lstm' ? 4 : 3;
    const sizes = [30, (kind === 'lstm' ? 2 : 1) * 15, 24, G * 20, G * 25, G * 5, ...(kind === 'gru' ? [5] : [])];
    const names = ['out', 'state', 'x', 'Wih', 'Whh', 'b', 'bHn'];
    const call = kind === 'lstm' ? addon!.lstmSequence! : addon!.gruSequence!;
    for (const [i, n] of sizes.entries()) {
      const args = sizes.map((m, j) => f(j === i ? m - 1 : m));
      expect(() => (call as (...a: unknown[]) => void)(...args, 2, 3, 4, 5)).toThrow(
        new RangeError(`${kind}Sequence: ${names[i]} length ${n - 1}, expected ${n}`),
      );
    }
  });
});

describe('the sequence kernels check their arguments before touching anything', () => {
  const c: Case = { H: 3, B: 2, T: 2, nX: 4 };
  it('lengths, kinds and dims', () => {
    const a = inputs('lstm', c, 1);
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
    const g = inputs('gru', c, 1);
    expect(() => K.gruSequence(out, g.state, g.x, g.Wih, g.Whh, g.bias, g.bHn!.subarray(1), 2, 2, 4, 3)).toThrow(
      new RangeError('gruSequence: bHn length 2, expected H = 3'),
    );
    expect(() => K.gruSequence(out, a.state, g.x, g.Wih, g.Whh, g.bias, g.bHn!, 2, 2, 4, 3)).toThrow(
      new RangeError('gruSequence: state length 12, expected B*H = 6'),
    );
    expect([...out].every((v) => v === 0)).toBe(true);
  });

  it('out or state sharing memory with another argument', () => {
    const a = inputs('lstm', c, 2);
    const buf = new Float32Array(12 + 12);
    const out = buf.subarray(0, 12);
    expect(() => K.lstmSequence(out, buf.subarray(11, 23), a.x, a.Wih, a.Whh, a.bias, 2, 2, 4, 3)).toThrow(
      new RangeError('lstmSequence: out shares memory with state; pass separate arrays'),
    );
    const w = new Float32Array(48 + 12);
    expect(() =>
      K.lstmSequence(new Float32Array(12), w.subarray(30, 42), a.x, a.Wih, w.subarray(0, 36), a.bias, 2, 2, 4, 3),
    ).toThrow(new RangeError('lstmSequence: state shares memory with Whh; pass separate arrays'));
    const g = inputs('gru', c, 2);
    const v = new Float32Array(12 + 6);
    expect(() =>
      K.gruSequence(new Float32Array(12), v.subarray(12), g.x, g.Wih, g.Whh, g.bias, v.subarray(10, 13), 2, 2, 4, 3),
    ).toThrow(new RangeError('gruSequence: state shares memory with bHn; pass separate arrays'));
  });

  it('T = 0 touches nothing', () => {
    const a = inputs('lstm', c, 3);
    const s = a.state.slice();
    K.lstmSequence(new Float32Array(0), a.state, new Float32Array(0), a.Wih, a.Whh, a.bias, 0, 2, 4, 3);
    expect([...a.state]).toEqual([...s]);
  });
});
