// The LSTM forward over a window without a tape, as the twin computes it: per step one bias copy,
// two products and the gate pass, composed from whichever kernels the caller hands in (the
// reference ones here, the active backend's in ../sequence.ts). Checks shared by both.
import { checkDim, checkF32 } from '../validate.js';
import { lstmForward as refLstmForward } from './gates.js';
import { gemmABt as refGemmABt } from './linalg.js';

type F = Float32Array;

/** The kernels a composed lstmSequence runs on, and where its scratch comes from. */
export interface SequenceOps {
  gemmABt(C: F, A: F, Bm: F, M: number, N: number, K: number, acc: boolean): void;
  lstmForward(h: F, c: F, act: F, pre: F, cPrev: F, B: number, H: number): void;
  alloc(n: number): F;
  free(a: F): void;
}

/** lstmSequence's arguments after `out`, in order. */
export type SequenceArgs = [state: F, x: F, Wih: F, Whh: F, bias: F, T: number, B: number, nX: number, H: number];

/** True when a and b share memory (views of one buffer whose byte ranges intersect). */
function overlaps(a: F, b: F): boolean {
  return (
    a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength
  );
}

/** Every check lstmSequence makes before it touches anything. */
export function lstmSequenceCheck(out: F, ...[state, x, Wih, Whh, bias, T, B, nX, H]: SequenceArgs): void {
  const k = 'lstmSequence';
  checkDim(k, 'T', T);
  checkDim(k, 'B', B);
  checkDim(k, 'nX', nX);
  checkDim(k, 'H', H);
  checkF32(k, 'out', out, T * B * H, 'T*B*H');
  checkF32(k, 'state', state, 2 * B * H, '2*B*H');
  checkF32(k, 'x', x, T * B * nX, 'T*B*nX');
  checkF32(k, 'Wih', Wih, 4 * H * nX, '4H*nX');
  checkF32(k, 'Whh', Whh, 4 * H * H, '4H*H');
  checkF32(k, 'bias', bias, 4 * H, '4H');
  const inputs: [string, F][] = [
    ['x', x],
    ['Wih', Wih],
    ['Whh', Whh],
    ['bias', bias],
  ];
  for (const [name, v] of [['state', state] as [string, F], ...inputs])
    if (overlaps(out, v)) throw new RangeError(`${k}: out shares memory with ${name}; pass separate arrays`);
  for (const [name, v] of inputs)
    if (overlaps(state, v)) throw new RangeError(`${k}: state shares memory with ${name}; pass separate arrays`);
}

/** The composition itself (arguments checked): pre = bias; pre += x_t·Wihᵀ; pre += h·Whhᵀ; gates. */
export function lstmSequenceCore(
  ops: SequenceOps,
  out: F,
  ...[state, x, Wih, Whh, bias, T, B, nX, H]: SequenceArgs
): void {
  if (T === 0 || B === 0 || H === 0) return;
  const n = B * H;
  const G = 4 * H;
  const pre = ops.alloc(B * G);
  const act = ops.alloc(B * G);
  let [hPrev, hNext, cPrev, cNext] = [ops.alloc(n), ops.alloc(n), ops.alloc(n), ops.alloc(n)];
  const scratch = [pre, act, hPrev, hNext, cPrev, cNext];
  try {
    hPrev.set(state.subarray(0, n));
    cPrev.set(state.subarray(n, 2 * n));
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) pre.set(bias, b * G);
      ops.gemmABt(pre, x.subarray(t * B * nX, (t + 1) * B * nX), Wih, B, G, nX, true);
      ops.gemmABt(pre, hPrev, Whh, B, G, H, true);
      ops.lstmForward(hNext, cNext, act, pre, cPrev, B, H);
      out.set(hNext, t * n);
      [hPrev, hNext] = [hNext, hPrev];
      [cPrev, cNext] = [cNext, cPrev];
    }
    state.set(hPrev, 0);
    state.set(cPrev, n);
  } finally {
    for (const a of scratch) ops.free(a);
  }
}

const REFERENCE_OPS: SequenceOps = {
  gemmABt: refGemmABt,
  lstmForward: refLstmForward,
  alloc: (n) => new Float32Array(n),
  free: () => {},
};

/**
 * T LSTM steps over B rows without a tape (see lstmSequence in the package root): state [B × 2H]
 * advanced in place, every step's h into out [T·B × H]; the reference kernels per step.
 */
export function lstmSequence(out: F, ...args: SequenceArgs): void {
  lstmSequenceCheck(out, ...args);
  lstmSequenceCore(REFERENCE_OPS, out, ...args);
}
