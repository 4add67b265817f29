// Reference twin of the fused gate kernels (tanh RNN, LSTM, GRU reset-after and reset-before):
// one elementwise pass over a batch of pre-activations [B×G·H], math in float64, stored float32.
// Gate order follows PyTorch: LSTM [i, f, g, o], GRU [r, z, n]. The caller owns every buffer.
import { checkBH, checkG } from '../validate.js';

/** Float32 for the kernels; Float64 lets tests run the same math as a float64 oracle. */
export type Vec = Float32Array | Float64Array;

const sigm = (v: number): number => 1 / (1 + Math.exp(-v));

/** h[B×H] = tanh(pre[B×H]). */
export function rnnForward(h: Float32Array, pre: Float32Array, B: number, H: number): void {
  rnnForwardCheck(h, pre, B, H);
  rnnForwardCore(h, pre, B, H);
}

export function rnnForwardCheck(h: Float32Array, pre: Float32Array, B: number, H: number): void {
  checkBH('rnnForward', B, H);
  checkG('rnnForward', 'h', h, B, H, 1);
  checkG('rnnForward', 'pre', pre, B, H, 1);
}

export function rnnForwardCore(h: Vec, pre: Vec, B: number, H: number): void {
  for (let i = 0; i < B * H; i++) h[i] = Math.tanh(pre[i]!);
}

/** dPre[B×H] = dh·(1 − h²), from the saved output h. */
export function rnnBackward(dPre: Float32Array, dh: Float32Array, h: Float32Array, B: number, H: number): void {
  rnnBackwardCheck(dPre, dh, h, B, H);
  rnnBackwardCore(dPre, dh, h, B, H);
}

export function rnnBackwardCheck(dPre: Float32Array, dh: Float32Array, h: Float32Array, B: number, H: number): void {
  checkBH('rnnBackward', B, H);
  checkG('rnnBackward', 'dPre', dPre, B, H, 1);
  checkG('rnnBackward', 'dh', dh, B, H, 1);
  checkG('rnnBackward', 'h', h, B, H, 1);
}

export function rnnBackwardCore(dPre: Vec, dh: Vec, h: Vec, B: number, H: number): void {
  for (let i = 0; i < B * H; i++) {
    const y = h[i]!;
    dPre[i] = dh[i]! * (1 - y * y);
  }
}

/** LSTM step: act = [σ(i), σ(f), tanh(g), σ(o)], c = f·cPrev + i·g, h = o·tanh(c). */
export function lstmForward(
  h: Float32Array,
  c: Float32Array,
  act: Float32Array,
  pre: Float32Array,
  cPrev: Float32Array,
  B: number,
  H: number,
): void {
  lstmForwardCheck(h, c, act, pre, cPrev, B, H);
  lstmForwardCore(h, c, act, pre, cPrev, B, H);
}

export function lstmForwardCheck(
  h: Float32Array,
  c: Float32Array,
  act: Float32Array,
  pre: Float32Array,
  cPrev: Float32Array,
  B: number,
  H: number,
): void {
  checkBH('lstmForward', B, H);
  checkG('lstmForward', 'h', h, B, H, 1);
  checkG('lstmForward', 'c', c, B, H, 1);
  checkG('lstmForward', 'act', act, B, H, 4);
  checkG('lstmForward', 'pre', pre, B, H, 4);
  checkG('lstmForward', 'cPrev', cPrev, B, H, 1);
}

export function lstmForwardCore(h: Vec, c: Vec, act: Vec, pre: Vec, cPrev: Vec, B: number, H: number): void {
  for (let b = 0; b < B; b++) {
    const g0 = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const ig = sigm(pre[g0 + j]!);
      const fg = sigm(pre[g0 + H + j]!);
      const gg = Math.tanh(pre[g0 + 2 * H + j]!);
      const og = sigm(pre[g0 + 3 * H + j]!);
      act[g0 + j] = ig;
      act[g0 + H + j] = fg;
      act[g0 + 2 * H + j] = gg;
      act[g0 + 3 * H + j] = og;
      const cv = fg * cPrev[b * H + j]! + ig * gg;
      c[b * H + j] = cv;
      h[b * H + j] = og * Math.tanh(cv);
    }
  }
}

/**
 * LSTM step backward. dh, dc: upstream gradients w.r.t. h and c (dc from the next step, zeros at a
 * window end). Writes dPre [B×4H] and dcPrev [B×H]; act, cPrev, c are the forward's saved values.
 */
export function lstmBackward(
  dPre: Float32Array,
  dcPrev: Float32Array,
  dh: Float32Array,
  dc: Float32Array,
  act: Float32Array,
  cPrev: Float32Array,
  c: Float32Array,
  B: number,
  H: number,
): void {
  lstmBackwardCheck(dPre, dcPrev, dh, dc, act, cPrev, c, B, H);
  lstmBackwardCore(dPre, dcPrev, dh, dc, act, cPrev, c, B, H);
}

export function lstmBackwardCheck(
  dPre: Float32Array,
  dcPrev: Float32Array,
  dh: Float32Array,
  dc: Float32Array,
  act: Float32Array,
  cPrev: Float32Array,
  c: Float32Array,
  B: number,
  H: number,
): void {
  checkBH('lstmBackward', B, H);
  checkG('lstmBackward', 'dPre', dPre, B, H, 4);
  checkG('lstmBackward', 'dcPrev', dcPrev, B, H, 1);
  checkG('lstmBackward', 'dh', dh, B, H, 1);
  checkG('lstmBackward', 'dc', dc, B, H, 1);
  checkG('lstmBackward', 'act', act, B, H, 4);
  checkG('lstmBackward', 'cPrev', cPrev, B, H, 1);
  checkG('lstmBackward', 'c', c, B, H, 1);
}

export function lstmBackwardCore(
  dPre: Vec,
  dcPrev: Vec,
  dh: Vec,
  dc: Vec,
  act: Vec,
  cPrev: Vec,
  c: Vec,
  B: number,
  H: number,
): void {
  for (let b = 0; b < B; b++) {
    const g0 = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const s = b * H + j;
      const ig = act[g0 + j]!;
      const fg = act[g0 + H + j]!;
      const gg = act[g0 + 2 * H + j]!;
      const og = act[g0 + 3 * H + j]!;
      const tc = Math.tanh(c[s]!);
      const dhv = dh[s]!;
      const dct = dc[s]! + dhv * og * (1 - tc * tc);
      dPre[g0 + j] = dct * gg * ig * (1 - ig);
      dPre[g0 + H + j] = dct * cPrev[s]! * fg * (1 - fg);
      dPre[g0 + 2 * H + j] = dct * ig * (1 - gg * gg);
      dPre[g0 + 3 * H + j] = dhv * tc * og * (1 - og);
      dcPrev[s] = dct * fg;
    }
  }
}

/**
 * GRU reset-after step (PyTorch): r = σ(xr + hr), z = σ(xz + hz), n = tanh(xn + r·hn),
 * h = (1 − z)·n + z·hPrev. xPre = W_ih x + b_ih, hPre = W_hh hPrev + b_hh, both [B×3H] [r, z, n].
 */
export function gruForward(
  h: Float32Array,
  act: Float32Array,
  xPre: Float32Array,
  hPre: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  gruForwardCheck(h, act, xPre, hPre, hPrev, B, H);
  gruForwardCore(h, act, xPre, hPre, hPrev, B, H);
}

export function gruForwardCheck(
  h: Float32Array,
  act: Float32Array,
  xPre: Float32Array,
  hPre: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  checkBH('gruForward', B, H);
  checkG('gruForward', 'h', h, B, H, 1);
  checkG('gruForward', 'act', act, B, H, 3);
  checkG('gruForward', 'xPre', xPre, B, H, 3);
  checkG('gruForward', 'hPre', hPre, B, H, 3);
  checkG('gruForward', 'hPrev', hPrev, B, H, 1);
}

export function gruForwardCore(h: Vec, act: Vec, xPre: Vec, hPre: Vec, hPrev: Vec, B: number, H: number): void {
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    for (let j = 0; j < H; j++) {
      const r = sigm(xPre[g0 + j]! + hPre[g0 + j]!);
      const z = sigm(xPre[g0 + H + j]! + hPre[g0 + H + j]!);
      const n = Math.tanh(xPre[g0 + 2 * H + j]! + r * hPre[g0 + 2 * H + j]!);
      act[g0 + j] = r;
      act[g0 + H + j] = z;
      act[g0 + 2 * H + j] = n;
      h[b * H + j] = (1 - z) * n + z * hPrev[b * H + j]!;
    }
  }
}

/**
 * GRU reset-after backward. Writes dxPre, dhPre [B×3H] (gradients w.r.t. the two
 * pre-activations) and the direct part of dhPrev (z·dh); the caller adds dhPre·W_hh.
 */
export function gruBackward(
  dxPre: Float32Array,
  dhPre: Float32Array,
  dhPrev: Float32Array,
  dh: Float32Array,
  act: Float32Array,
  hPre: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  gruBackwardCheck(dxPre, dhPre, dhPrev, dh, act, hPre, hPrev, B, H);
  gruBackwardCore(dxPre, dhPre, dhPrev, dh, act, hPre, hPrev, B, H);
}

export function gruBackwardCheck(
  dxPre: Float32Array,
  dhPre: Float32Array,
  dhPrev: Float32Array,
  dh: Float32Array,
  act: Float32Array,
  hPre: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  checkBH('gruBackward', B, H);
  checkG('gruBackward', 'dxPre', dxPre, B, H, 3);
  checkG('gruBackward', 'dhPre', dhPre, B, H, 3);
  checkG('gruBackward', 'dhPrev', dhPrev, B, H, 1);
  checkG('gruBackward', 'dh', dh, B, H, 1);
  checkG('gruBackward', 'act', act, B, H, 3);
  checkG('gruBackward', 'hPre', hPre, B, H, 3);
  checkG('gruBackward', 'hPrev', hPrev, B, H, 1);
}

export function gruBackwardCore(
  dxPre: Vec,
  dhPre: Vec,
  dhPrev: Vec,
  dh: Vec,
  act: Vec,
  hPre: Vec,
  hPrev: Vec,
  B: number,
  H: number,
): void {
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    for (let j = 0; j < H; j++) {
      const s = b * H + j;
      const r = act[g0 + j]!;
      const z = act[g0 + H + j]!;
      const n = act[g0 + 2 * H + j]!;
      const dhv = dh[s]!;
      const dnPre = dhv * (1 - z) * (1 - n * n);
      const dzPre = dhv * (hPrev[s]! - n) * z * (1 - z);
      const drPre = dnPre * hPre[g0 + 2 * H + j]! * r * (1 - r);
      dxPre[g0 + j] = drPre;
      dxPre[g0 + H + j] = dzPre;
      dxPre[g0 + 2 * H + j] = dnPre;
      dhPre[g0 + j] = drPre;
      dhPre[g0 + H + j] = dzPre;
      dhPre[g0 + 2 * H + j] = dnPre * r;
      dhPrev[s] = dhv * z;
    }
  }
}

/**
 * GRU reset-before, stage 1: r = σ(xr + hr), z = σ(xz + hz) into act's r and z blocks, and
 * rh = r·hPrev for the caller's W_hn·(r⊙h) product. xPre [B×3H] [r, z, n]; hPreRz [B×2H] [r, z].
 */
export function gruRzForward(
  act: Float32Array,
  rh: Float32Array,
  xPre: Float32Array,
  hPreRz: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  gruRzForwardCheck(act, rh, xPre, hPreRz, hPrev, B, H);
  gruRzForwardCore(act, rh, xPre, hPreRz, hPrev, B, H);
}

export function gruRzForwardCheck(
  act: Float32Array,
  rh: Float32Array,
  xPre: Float32Array,
  hPreRz: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  checkBH('gruRzForward', B, H);
  checkG('gruRzForward', 'act', act, B, H, 3);
  checkG('gruRzForward', 'rh', rh, B, H, 1);
  checkG('gruRzForward', 'xPre', xPre, B, H, 3);
  checkG('gruRzForward', 'hPreRz', hPreRz, B, H, 2);
  checkG('gruRzForward', 'hPrev', hPrev, B, H, 1);
}

export function gruRzForwardCore(act: Vec, rh: Vec, xPre: Vec, hPreRz: Vec, hPrev: Vec, B: number, H: number): void {
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    const h0 = b * 2 * H;
    for (let j = 0; j < H; j++) {
      const r = sigm(xPre[g0 + j]! + hPreRz[h0 + j]!);
      act[g0 + j] = r;
      act[g0 + H + j] = sigm(xPre[g0 + H + j]! + hPreRz[h0 + H + j]!);
      rh[b * H + j] = r * hPrev[b * H + j]!;
    }
  }
}

/**
 * GRU reset-before, stage 2: n = tanh(xn + hn) into act's n block, h = (1 − z)·n + z·hPrev.
 * hn [B×H] = W_hn·(r⊙hPrev) (+ b_hn if the caller has one), computed by the caller between stages.
 */
export function gruNForward(
  h: Float32Array,
  act: Float32Array,
  xPre: Float32Array,
  hn: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  gruNForwardCheck(h, act, xPre, hn, hPrev, B, H);
  gruNForwardCore(h, act, xPre, hn, hPrev, B, H);
}

export function gruNForwardCheck(
  h: Float32Array,
  act: Float32Array,
  xPre: Float32Array,
  hn: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  checkBH('gruNForward', B, H);
  checkG('gruNForward', 'h', h, B, H, 1);
  checkG('gruNForward', 'act', act, B, H, 3);
  checkG('gruNForward', 'xPre', xPre, B, H, 3);
  checkG('gruNForward', 'hn', hn, B, H, 1);
  checkG('gruNForward', 'hPrev', hPrev, B, H, 1);
}

export function gruNForwardCore(h: Vec, act: Vec, xPre: Vec, hn: Vec, hPrev: Vec, B: number, H: number): void {
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    for (let j = 0; j < H; j++) {
      const n = Math.tanh(xPre[g0 + 2 * H + j]! + hn[b * H + j]!);
      act[g0 + 2 * H + j] = n;
      const z = act[g0 + H + j]!;
      h[b * H + j] = (1 - z) * n + z * hPrev[b * H + j]!;
    }
  }
}

/**
 * GRU reset-before, backward of stage 2 (run first). Writes dxPre's n and z blocks, dhn [B×H]
 * (the gradient w.r.t. hn, for the caller's dW_hn and drh = dhn·W_hn) and dhPrev = z·dh.
 */
export function gruNBackward(
  dxPre: Float32Array,
  dhn: Float32Array,
  dhPrev: Float32Array,
  dh: Float32Array,
  act: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  gruNBackwardCheck(dxPre, dhn, dhPrev, dh, act, hPrev, B, H);
  gruNBackwardCore(dxPre, dhn, dhPrev, dh, act, hPrev, B, H);
}

export function gruNBackwardCheck(
  dxPre: Float32Array,
  dhn: Float32Array,
  dhPrev: Float32Array,
  dh: Float32Array,
  act: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  checkBH('gruNBackward', B, H);
  checkG('gruNBackward', 'dxPre', dxPre, B, H, 3);
  checkG('gruNBackward', 'dhn', dhn, B, H, 1);
  checkG('gruNBackward', 'dhPrev', dhPrev, B, H, 1);
  checkG('gruNBackward', 'dh', dh, B, H, 1);
  checkG('gruNBackward', 'act', act, B, H, 3);
  checkG('gruNBackward', 'hPrev', hPrev, B, H, 1);
}

export function gruNBackwardCore(
  dxPre: Vec,
  dhn: Vec,
  dhPrev: Vec,
  dh: Vec,
  act: Vec,
  hPrev: Vec,
  B: number,
  H: number,
): void {
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    for (let j = 0; j < H; j++) {
      const s = b * H + j;
      const z = act[g0 + H + j]!;
      const n = act[g0 + 2 * H + j]!;
      const dhv = dh[s]!;
      const dnPre = dhv * (1 - z) * (1 - n * n);
      dxPre[g0 + H + j] = dhv * (hPrev[s]! - n) * z * (1 - z);
      dxPre[g0 + 2 * H + j] = dnPre;
      dhn[s] = dnPre;
      dhPrev[s] = dhv * z;
    }
  }
}

/**
 * GRU reset-before, backward of stage 1 (run second). drh [B×H] = dhn·W_hn from the caller.
 * Writes dxPre's r block, dhPreRz [B×2H] [r, z] (z copied from dxPre) and adds r·drh to dhPrev;
 * the caller then adds dhPreRz·W_h{r,z}.
 */
export function gruRzBackward(
  dxPre: Float32Array,
  dhPreRz: Float32Array,
  dhPrev: Float32Array,
  drh: Float32Array,
  act: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  gruRzBackwardCheck(dxPre, dhPreRz, dhPrev, drh, act, hPrev, B, H);
  gruRzBackwardCore(dxPre, dhPreRz, dhPrev, drh, act, hPrev, B, H);
}

export function gruRzBackwardCheck(
  dxPre: Float32Array,
  dhPreRz: Float32Array,
  dhPrev: Float32Array,
  drh: Float32Array,
  act: Float32Array,
  hPrev: Float32Array,
  B: number,
  H: number,
): void {
  checkBH('gruRzBackward', B, H);
  checkG('gruRzBackward', 'dxPre', dxPre, B, H, 3);
  checkG('gruRzBackward', 'dhPreRz', dhPreRz, B, H, 2);
  checkG('gruRzBackward', 'dhPrev', dhPrev, B, H, 1);
  checkG('gruRzBackward', 'drh', drh, B, H, 1);
  checkG('gruRzBackward', 'act', act, B, H, 3);
  checkG('gruRzBackward', 'hPrev', hPrev, B, H, 1);
}

export function gruRzBackwardCore(
  dxPre: Vec,
  dhPreRz: Vec,
  dhPrev: Vec,
  drh: Vec,
  act: Vec,
  hPrev: Vec,
  B: number,
  H: number,
): void {
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    const h0 = b * 2 * H;
    for (let j = 0; j < H; j++) {
      const s = b * H + j;
      const r = act[g0 + j]!;
      const drPre = drh[s]! * hPrev[s]! * r * (1 - r);
      dxPre[g0 + j] = drPre;
      dhPreRz[h0 + j] = drPre;
      dhPreRz[h0 + H + j] = dxPre[g0 + H + j]!;
      dhPrev[s] = dhPrev[s]! + drh[s]! * r;
    }
  }
}
