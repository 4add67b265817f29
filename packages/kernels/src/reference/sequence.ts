// A cell's forward over a window without a tape, as the twin computes it: per step bias copies,
// the products and the gate pass, composed from whichever kernels the caller hands in (the
// reference ones here, the active backend's in ../sequence.ts). Checks shared by both.
import { checkDim, checkDisjoint, checkF32 } from '../validate.js';
import { gruForward as refGruForward, lstmForward as refLstmForward } from './gates.js';
import { gemmABt as refGemmABt } from './linalg.js';

type F = Float32Array;

/** The kernels a composed sequence runs on, and where its scratch comes from. */
export interface SequenceOps {
  gemmABt(C: F, A: F, Bm: F, M: number, N: number, K: number, acc: boolean): void;
  lstmForward(h: F, c: F, act: F, pre: F, cPrev: F, B: number, H: number): void;
  gruForward(h: F, act: F, xPre: F, hPre: F, hPrev: F, B: number, H: number): void;
  alloc(n: number): F;
  free(a: F): void;
}

/** One window: the LSTM's (bHn null) or the reset-after GRU's (bHn = b_hn [H]). */
export interface SequenceWindow {
  out: F;
  state: F;
  x: F;
  Wih: F;
  Whh: F;
  bias: F;
  bHn: F | null;
  T: number;
  B: number;
  nX: number;
  H: number;
}

/** lstmSequence's arguments (the public kernel's, the addon's and the twin's). */
export type LstmSequenceArgs = [
  out: F,
  state: F,
  x: F,
  Wih: F,
  Whh: F,
  bias: F,
  T: number,
  B: number,
  nX: number,
  H: number,
];

/** gruSequence's arguments (the public kernel's, the addon's and the twin's). */
export type GruSequenceArgs = [
  out: F,
  state: F,
  x: F,
  Wih: F,
  Whh: F,
  bias: F,
  bHn: F,
  T: number,
  B: number,
  nX: number,
  H: number,
];

/** Every check lstmSequence / gruSequence makes before it touches anything. */
export function checkSequence(k: 'lstmSequence' | 'gruSequence', w: SequenceWindow): void {
  const gru = k === 'gruSequence';
  const { T, B, nX, H } = w;
  checkDim(k, 'T', T);
  checkDim(k, 'B', B);
  checkDim(k, 'nX', nX);
  checkDim(k, 'H', H);
  const G = gru ? 3 : 4;
  checkF32(k, 'out', w.out, T * B * H, 'T*B*H');
  checkF32(k, 'state', w.state, (gru ? 1 : 2) * B * H, gru ? 'B*H' : '2*B*H');
  checkF32(k, 'x', w.x, T * B * nX, 'T*B*nX');
  checkF32(k, 'Wih', w.Wih, G * H * nX, `${G}H*nX`);
  checkF32(k, 'Whh', w.Whh, G * H * H, `${G}H*H`);
  checkF32(k, 'bias', w.bias, G * H, `${G}H`);
  const inputs: [string, F][] = [
    ['x', w.x],
    ['Wih', w.Wih],
    ['Whh', w.Whh],
    ['bias', w.bias],
  ];
  if (gru) inputs.push(['bHn', checkF32(k, 'bHn', w.bHn, H, 'H')]);
  for (const [name, v] of [['state', w.state] as [string, F], ...inputs]) checkDisjoint(k, 'out', w.out, name, v);
  for (const [name, v] of inputs) checkDisjoint(k, 'state', w.state, name, v);
}

/**
 * The composition itself (arguments checked). LSTM: pre = bias; pre += x_t·Wihᵀ; pre += h·Whhᵀ;
 * lstmForward. GRU: xPre = bias; xPre += x_t·Wihᵀ; hPre = [0 | 0 | b_hn]; hPre += h·Whhᵀ;
 * gruForward.
 */
export function sequenceCore(ops: SequenceOps, w: SequenceWindow): void {
  const { out, state, x, Wih, Whh, bias, bHn, T, B, nX, H } = w;
  if (T === 0 || B === 0 || H === 0) return;
  const n = B * H;
  const G = (bHn === null ? 4 : 3) * H;
  const pre = ops.alloc(B * G);
  const act = ops.alloc(B * G);
  const hPre = ops.alloc(bHn === null ? 0 : B * G);
  const hBias = ops.alloc(bHn === null ? 0 : G);
  let [hPrev, hNext] = [ops.alloc(n), ops.alloc(n)];
  let [cPrev, cNext] = bHn === null ? [ops.alloc(n), ops.alloc(n)] : [ops.alloc(0), ops.alloc(0)];
  const scratch = [pre, act, hPre, hBias, hPrev, hNext, cPrev, cNext];
  try {
    hPrev.set(state.subarray(0, n));
    if (bHn === null) cPrev.set(state.subarray(n, 2 * n));
    else hBias.set(bHn, 2 * H);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) pre.set(bias, b * G);
      ops.gemmABt(pre, x.subarray(t * B * nX, (t + 1) * B * nX), Wih, B, G, nX, true);
      if (bHn === null) {
        ops.gemmABt(pre, hPrev, Whh, B, G, H, true);
        ops.lstmForward(hNext, cNext, act, pre, cPrev, B, H);
        [cPrev, cNext] = [cNext, cPrev];
      } else {
        for (let b = 0; b < B; b++) hPre.set(hBias, b * G);
        ops.gemmABt(hPre, hPrev, Whh, B, G, H, true);
        ops.gruForward(hNext, act, pre, hPre, hPrev, B, H);
      }
      out.set(hNext, t * n);
      [hPrev, hNext] = [hNext, hPrev];
    }
    state.set(hPrev, 0);
    if (bHn === null) state.set(cPrev, n);
  } finally {
    for (const a of scratch) ops.free(a);
  }
}

const REFERENCE_OPS: SequenceOps = {
  gemmABt: refGemmABt,
  lstmForward: refLstmForward,
  gruForward: refGruForward,
  alloc: (n) => new Float32Array(n),
  free: () => {},
};

/**
 * T LSTM steps over B rows without a tape (see lstmSequence in the package root): state
 * [B × 2H] advanced in place, every step's h into out [T·B × H]; the reference kernels per step.
 */
export function lstmSequence(...[out, state, x, Wih, Whh, bias, T, B, nX, H]: LstmSequenceArgs): void {
  const w: SequenceWindow = { out, state, x, Wih, Whh, bias, bHn: null, T, B, nX, H };
  checkSequence('lstmSequence', w);
  sequenceCore(REFERENCE_OPS, w);
}

/**
 * T reset-after GRU steps over B rows without a tape (see gruSequence in the package root): state
 * h [B × H] advanced in place, every step's h into out [T·B × H]; the reference kernels per step.
 */
export function gruSequence(...[out, state, x, Wih, Whh, bias, bHn, T, B, nX, H]: GruSequenceArgs): void {
  const w: SequenceWindow = { out, state, x, Wih, Whh, bias, bHn, T, B, nX, H };
  checkSequence('gruSequence', w);
  sequenceCore(REFERENCE_OPS, w);
}
