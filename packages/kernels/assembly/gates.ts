// Fused gate kernels in WASM: the same float64 formulas as the reference twin (src/reference/
// gates.ts), one pass over [B×G·H] pre-activations, gate order LSTM [i, f, g, o], GRU [r, z, n].
// Pointers are byte offsets of caller-owned float32 buffers; nothing here allocates. Kernels
// run 4 lanes at a time in float32 (vexp/vtanh from vmath.ts); scalar tails use float64 Math.
import { vsigmoid, vtanh } from './vmath';

// @ts-expect-error: decorator
@inline function vl(p: usize, i: i32): v128 {
  return v128.load(p + (<usize>i << 2));
}

// @ts-expect-error: decorator
@inline function vs(p: usize, i: i32, v: v128): void {
  v128.store(p + (<usize>i << 2), v);
}

@inline function ld(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

@inline function st(p: usize, i: i32, v: f64): void {
  store<f32>(p + (<usize>i << 2), <f32>v);
}

// exp-based sigmoid in float64: exp(−v) overflows to +inf for v < −709, giving exactly 0.
@inline function sigm(v: f64): f64 {
  return 1.0 / (1.0 + Math.exp(-v));
}

export function rnnForward(h: usize, pre: usize, B: i32, H: i32): void {
  const n = B * H;
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) vs(h, i, vtanh(vl(pre, i)));
  for (; i < n; i++) st(h, i, Math.tanh(ld(pre, i)));
}

export function rnnBackward(dPre: usize, dh: usize, h: usize, B: i32, H: i32): void {
  const n = B * H;
  const n4 = n & ~3;
  const one = f32x4.splat(1.0);
  let i = 0;
  for (; i < n4; i += 4) {
    const y = vl(h, i);
    vs(dPre, i, f32x4.mul(vl(dh, i), f32x4.sub(one, f32x4.mul(y, y))));
  }
  for (; i < n; i++) {
    const y = ld(h, i);
    st(dPre, i, ld(dh, i) * (1.0 - y * y));
  }
}

/**
 * One pass per activation kind (σ over the contiguous i, f blocks, tanh over g, σ over o), then
 * the cell update: each loop body stays small enough for V8's 15 xmm registers (the single
 * interleaved body spilled), and every element gets exactly the same operations as before.
 */
export function lstmForward(h: usize, c: usize, act: usize, pre: usize, cPrev: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const g0 = b * 4 * H;
    sigmoidBlock(act + (<usize>g0 << 2), pre + (<usize>g0 << 2), H, H4);
    sigmoidBlock(act + (<usize>(g0 + H) << 2), pre + (<usize>(g0 + H) << 2), H, H4);
    tanhBlock(act + (<usize>(g0 + 2 * H) << 2), pre + (<usize>(g0 + 2 * H) << 2), H, H4);
    sigmoidBlock(act + (<usize>(g0 + 3 * H) << 2), pre + (<usize>(g0 + 3 * H) << 2), H, H4);
    let j = 0;
    for (; j + 8 <= H4; j += 8) {
      const s = b * H + j;
      const c0 = f32x4.add(f32x4.mul(vl(act, g0 + H + j), vl(cPrev, s)), f32x4.mul(vl(act, g0 + j), vl(act, g0 + 2 * H + j)));
      const c1 = f32x4.add(f32x4.mul(vl(act, g0 + H + j + 4), vl(cPrev, s + 4)), f32x4.mul(vl(act, g0 + j + 4), vl(act, g0 + 2 * H + j + 4)));
      const t0 = vtanh(c0);
      const t1 = vtanh(c1);
      vs(c, s, c0);
      vs(c, s + 4, c1);
      vs(h, s, f32x4.mul(vl(act, g0 + 3 * H + j), t0));
      vs(h, s + 4, f32x4.mul(vl(act, g0 + 3 * H + j + 4), t1));
    }
    for (; j < H4; j += 4) {
      const cv = f32x4.add(f32x4.mul(vl(act, g0 + H + j), vl(cPrev, b * H + j)), f32x4.mul(vl(act, g0 + j), vl(act, g0 + 2 * H + j)));
      vs(c, b * H + j, cv);
      vs(h, b * H + j, f32x4.mul(vl(act, g0 + 3 * H + j), vtanh(cv)));
    }
    for (; j < H; j++) {
      const ig = ld(pre, g0 + j) , fg = ld(pre, g0 + H + j), gg = ld(pre, g0 + 2 * H + j), og = ld(pre, g0 + 3 * H + j);
      const cv = sigm(fg) * ld(cPrev, b * H + j) + sigm(ig) * Math.tanh(gg);
      st(c, b * H + j, cv);
      st(h, b * H + j, sigm(og) * Math.tanh(cv));
    }
  }
}

/** out[0..n) = σ(x): vector lanes below n4, float64 scalar tail (as every gate kernel). */
function sigmoidBlock(out: usize, x: usize, n: i32, n4: i32): void {
  let j = 0;
  // Two independent exp chains per iteration: enough parallelism without spilling.
  for (; j + 8 <= n4; j += 8) {
    const a = vsigmoid(vl(x, j));
    const b = vsigmoid(vl(x, j + 4));
    vs(out, j, a);
    vs(out, j + 4, b);
  }
  for (; j < n4; j += 4) vs(out, j, vsigmoid(vl(x, j)));
  for (; j < n; j++) st(out, j, sigm(ld(x, j)));
}

/** out[0..n) = tanh(x), likewise. */
function tanhBlock(out: usize, x: usize, n: i32, n4: i32): void {
  let j = 0;
  for (; j + 8 <= n4; j += 8) {
    const a = vtanh(vl(x, j));
    const b = vtanh(vl(x, j + 4));
    vs(out, j, a);
    vs(out, j + 4, b);
  }
  for (; j < n4; j += 4) vs(out, j, vtanh(vl(x, j)));
  for (; j < n; j++) st(out, j, Math.tanh(ld(x, j)));
}

export function lstmBackward(dPre: usize, dcPrev: usize, dh: usize, dc: usize, act: usize, cPrev: usize, c: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < B; b++) {
    const g0 = b * 4 * H;
    let j = 0;
    for (; j < H4; j += 4) {
      const s = b * H + j;
      const ig = vl(act, g0 + j), fg = vl(act, g0 + H + j), gg = vl(act, g0 + 2 * H + j), og = vl(act, g0 + 3 * H + j);
      const tc = vtanh(vl(c, s));
      const dhv = vl(dh, s);
      const dct = f32x4.add(vl(dc, s), f32x4.mul(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      vs(dPre, g0 + j, f32x4.mul(f32x4.mul(dct, gg), f32x4.mul(ig, f32x4.sub(one, ig))));
      vs(dPre, g0 + H + j, f32x4.mul(f32x4.mul(dct, vl(cPrev, s)), f32x4.mul(fg, f32x4.sub(one, fg))));
      vs(dPre, g0 + 2 * H + j, f32x4.mul(f32x4.mul(dct, ig), f32x4.sub(one, f32x4.mul(gg, gg))));
      vs(dPre, g0 + 3 * H + j, f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(og, f32x4.sub(one, og))));
      vs(dcPrev, s, f32x4.mul(dct, fg));
    }
    for (; j < H; j++) {
      const s = b * H + j;
      const ig = ld(act, g0 + j), fg = ld(act, g0 + H + j), gg = ld(act, g0 + 2 * H + j), og = ld(act, g0 + 3 * H + j);
      const tc = Math.tanh(ld(c, s));
      const dhv = ld(dh, s);
      const dct = ld(dc, s) + dhv * og * (1.0 - tc * tc);
      st(dPre, g0 + j, dct * gg * ig * (1.0 - ig));
      st(dPre, g0 + H + j, dct * ld(cPrev, s) * fg * (1.0 - fg));
      st(dPre, g0 + 2 * H + j, dct * ig * (1.0 - gg * gg));
      st(dPre, g0 + 3 * H + j, dhv * tc * og * (1.0 - og));
      st(dcPrev, s, dct * fg);
    }
  }
}

/** r and z in one pass each (σ of xPre + hPre), then n and h: small loop bodies, as lstmForward. */
export function gruForward(h: usize, act: usize, xPre: usize, hPre: usize, hPrev: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    sigmoidSumBlock(act + (<usize>g0 << 2), xPre + (<usize>g0 << 2), hPre + (<usize>g0 << 2), H, H4);
    sigmoidSumBlock(act + (<usize>(g0 + H) << 2), xPre + (<usize>(g0 + H) << 2), hPre + (<usize>(g0 + H) << 2), H, H4);
    let j = 0;
    for (; j < H4; j += 4) {
      const r = vl(act, g0 + j);
      const z = vl(act, g0 + H + j);
      const n = vtanh(f32x4.add(vl(xPre, g0 + 2 * H + j), f32x4.mul(r, vl(hPre, g0 + 2 * H + j))));
      vs(act, g0 + 2 * H + j, n);
      // (1 − z)·n + z·hPrev = n + z·(hPrev − n)
      vs(h, b * H + j, f32x4.add(n, f32x4.mul(z, f32x4.sub(vl(hPrev, b * H + j), n))));
    }
    for (; j < H; j++) {
      // Scalar tail in float64 from the pre-activations (act holds the float32-rounded r, z).
      const r = sigm(ld(xPre, g0 + j) + ld(hPre, g0 + j));
      const z = sigm(ld(xPre, g0 + H + j) + ld(hPre, g0 + H + j));
      const n = Math.tanh(ld(xPre, g0 + 2 * H + j) + r * ld(hPre, g0 + 2 * H + j));
      st(act, g0 + 2 * H + j, n);
      st(h, b * H + j, (1.0 - z) * n + z * ld(hPrev, b * H + j));
    }
  }
}

/** out[0..n) = σ(x + y), vector lanes below n4, float64 scalar tail. */
function sigmoidSumBlock(out: usize, x: usize, y: usize, n: i32, n4: i32): void {
  let j = 0;
  for (; j + 8 <= n4; j += 8) {
    const a = vsigmoid(f32x4.add(vl(x, j), vl(y, j)));
    const b = vsigmoid(f32x4.add(vl(x, j + 4), vl(y, j + 4)));
    vs(out, j, a);
    vs(out, j + 4, b);
  }
  for (; j < n4; j += 4) vs(out, j, vsigmoid(f32x4.add(vl(x, j), vl(y, j))));
  for (; j < n; j++) st(out, j, sigm(ld(x, j) + ld(y, j)));
}

export function gruBackward(dxPre: usize, dhPre: usize, dhPrev: usize, dh: usize, act: usize, hPre: usize, hPrev: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    let j = 0;
    for (; j < H4; j += 4) {
      const s = b * H + j;
      const r = vl(act, g0 + j), z = vl(act, g0 + H + j), n = vl(act, g0 + 2 * H + j);
      const dhv = vl(dh, s);
      const dnPre = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      const dzPre = f32x4.mul(f32x4.mul(dhv, f32x4.sub(vl(hPrev, s), n)), f32x4.mul(z, f32x4.sub(one, z)));
      const drPre = f32x4.mul(f32x4.mul(dnPre, vl(hPre, g0 + 2 * H + j)), f32x4.mul(r, f32x4.sub(one, r)));
      vs(dxPre, g0 + j, drPre);
      vs(dxPre, g0 + H + j, dzPre);
      vs(dxPre, g0 + 2 * H + j, dnPre);
      vs(dhPre, g0 + j, drPre);
      vs(dhPre, g0 + H + j, dzPre);
      vs(dhPre, g0 + 2 * H + j, f32x4.mul(dnPre, r));
      vs(dhPrev, s, f32x4.mul(dhv, z));
    }
    for (; j < H; j++) {
      const s = b * H + j;
      const r = ld(act, g0 + j), z = ld(act, g0 + H + j), n = ld(act, g0 + 2 * H + j);
      const dhv = ld(dh, s);
      const dnPre = dhv * (1.0 - z) * (1.0 - n * n);
      const dzPre = dhv * (ld(hPrev, s) - n) * z * (1.0 - z);
      const drPre = dnPre * ld(hPre, g0 + 2 * H + j) * r * (1.0 - r);
      st(dxPre, g0 + j, drPre);
      st(dxPre, g0 + H + j, dzPre);
      st(dxPre, g0 + 2 * H + j, dnPre);
      st(dhPre, g0 + j, drPre);
      st(dhPre, g0 + H + j, dzPre);
      st(dhPre, g0 + 2 * H + j, dnPre * r);
      st(dhPrev, s, dhv * z);
    }
  }
}

export function gruRzForward(act: usize, rh: usize, xPre: usize, hPreRz: usize, hPrev: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H, h0 = b * 2 * H;
    let j = 0;
    for (; j < H4; j += 4) {
      const r = vsigmoid(f32x4.add(vl(xPre, g0 + j), vl(hPreRz, h0 + j)));
      vs(act, g0 + j, r);
      vs(act, g0 + H + j, vsigmoid(f32x4.add(vl(xPre, g0 + H + j), vl(hPreRz, h0 + H + j))));
      vs(rh, b * H + j, f32x4.mul(r, vl(hPrev, b * H + j)));
    }
    for (; j < H; j++) {
      const r = sigm(ld(xPre, g0 + j) + ld(hPreRz, h0 + j));
      st(act, g0 + j, r);
      st(act, g0 + H + j, sigm(ld(xPre, g0 + H + j) + ld(hPreRz, h0 + H + j)));
      st(rh, b * H + j, r * ld(hPrev, b * H + j));
    }
  }
}

export function gruNForward(h: usize, act: usize, xPre: usize, hn: usize, hPrev: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    let j = 0;
    for (; j < H4; j += 4) {
      const n = vtanh(f32x4.add(vl(xPre, g0 + 2 * H + j), vl(hn, b * H + j)));
      vs(act, g0 + 2 * H + j, n);
      const z = vl(act, g0 + H + j);
      vs(h, b * H + j, f32x4.add(n, f32x4.mul(z, f32x4.sub(vl(hPrev, b * H + j), n))));
    }
    for (; j < H; j++) {
      const n = Math.tanh(ld(xPre, g0 + 2 * H + j) + ld(hn, b * H + j));
      st(act, g0 + 2 * H + j, n);
      const z = ld(act, g0 + H + j);
      st(h, b * H + j, (1.0 - z) * n + z * ld(hPrev, b * H + j));
    }
  }
}

export function gruNBackward(dxPre: usize, dhn: usize, dhPrev: usize, dh: usize, act: usize, hPrev: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H;
    let j = 0;
    for (; j < H4; j += 4) {
      const s = b * H + j;
      const z = vl(act, g0 + H + j), n = vl(act, g0 + 2 * H + j);
      const dhv = vl(dh, s);
      const dnPre = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      vs(dxPre, g0 + H + j, f32x4.mul(f32x4.mul(dhv, f32x4.sub(vl(hPrev, s), n)), f32x4.mul(z, f32x4.sub(one, z))));
      vs(dxPre, g0 + 2 * H + j, dnPre);
      vs(dhn, s, dnPre);
      vs(dhPrev, s, f32x4.mul(dhv, z));
    }
    for (; j < H; j++) {
      const s = b * H + j;
      const z = ld(act, g0 + H + j), n = ld(act, g0 + 2 * H + j);
      const dhv = ld(dh, s);
      const dnPre = dhv * (1.0 - z) * (1.0 - n * n);
      st(dxPre, g0 + H + j, dhv * (ld(hPrev, s) - n) * z * (1.0 - z));
      st(dxPre, g0 + 2 * H + j, dnPre);
      st(dhn, s, dnPre);
      st(dhPrev, s, dhv * z);
    }
  }
}

export function gruRzBackward(dxPre: usize, dhPreRz: usize, dhPrev: usize, drh: usize, act: usize, hPrev: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < B; b++) {
    const g0 = b * 3 * H, h0 = b * 2 * H;
    let j = 0;
    for (; j < H4; j += 4) {
      const s = b * H + j;
      const r = vl(act, g0 + j);
      const d = vl(drh, s);
      const drPre = f32x4.mul(f32x4.mul(d, vl(hPrev, s)), f32x4.mul(r, f32x4.sub(one, r)));
      vs(dxPre, g0 + j, drPre);
      vs(dhPreRz, h0 + j, drPre);
      vs(dhPreRz, h0 + H + j, vl(dxPre, g0 + H + j));
      vs(dhPrev, s, f32x4.add(vl(dhPrev, s), f32x4.mul(d, r)));
    }
    for (; j < H; j++) {
      const s = b * H + j;
      const r = ld(act, g0 + j);
      const drPre = ld(drh, s) * ld(hPrev, s) * r * (1.0 - r);
      st(dxPre, g0 + j, drPre);
      st(dhPreRz, h0 + j, drPre);
      st(dhPreRz, h0 + H + j, ld(dxPre, g0 + H + j));
      st(dhPrev, s, ld(dhPrev, s) + ld(drh, s) * r);
    }
  }
}
