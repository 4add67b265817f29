// WASM SIMD128 linear algebra on float32 data in linear memory. Pointers are byte offsets into
// the imported memory, dims are element counts, layouts as in docs/contracts.md. Buffers belong
// to the JS side (allocF32 or the scratch region); nothing here allocates.

@inline function hsum(v: v128): f32 {
  // Pairwise: (l0 + l2) + (l1 + l3).
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

@inline function ldf(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

@inline function stf(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

/** y[rows] = W[rows×cols]·x (+ y when acc). Six rows at a time share each loaded x vector. */
export function gemv(y: usize, W: usize, x: usize, rows: i32, cols: i32, acc: i32): void {
  gemvAdd(y, W, x, rows, cols, acc, y);
}

/**
 * y[rows] = W[rows×cols]·x (+ add[rows] when acc; add may be y itself). The fused step kernels
 * seed with a bias this way without a copy; the sums are formed in exactly gemv's order.
 *
 * Register budget: V8 gives WASM SIMD 15 xmm registers and its scheduler issues a block's loads
 * early, so a loop body must keep at most ~14 vectors live or it spills to the stack inside the
 * loop (the earlier 4 rows × 2 accumulators × 8 columns body needed 18 and spilled three: about
 * 40% slower). Six rows with one accumulator each over 4 columns keep 6 + 1 + 6 = 13 live; each
 * row's add chain still has six independent neighbours to hide the add latency.
 */
export function gemvAdd(y: usize, W: usize, x: usize, rows: i32, cols: i32, acc: i32, add: usize): void {
  const rb = <usize>cols << 2;
  const c8 = cols & ~7;
  const c4 = cols & ~3;
  let r = 0;
  for (; r + 6 <= rows; r += 6) {
    const w0 = W + <usize>r * rb;
    const w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb, w4 = w3 + rb, w5 = w4 + rb;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    let c = 0;
    for (; c < c4; c += 4) {
      const o = <usize>c << 2;
      const x0 = v128.load(x + o);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(w0 + o), x0));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(w1 + o), x0));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(w2 + o), x0));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(w3 + o), x0));
      a4 = f32x4.add(a4, f32x4.mul(v128.load(w4 + o), x0));
      a5 = f32x4.add(a5, f32x4.mul(v128.load(w5 + o), x0));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3), s4 = hsum(a4), s5 = hsum(a5);
    for (; c < cols; c++) {
      const xv = ldf(x, c);
      s0 += ldf(w0, c) * xv;
      s1 += ldf(w1, c) * xv;
      s2 += ldf(w2, c) * xv;
      s3 += ldf(w3, c) * xv;
      s4 += ldf(w4, c) * xv;
      s5 += ldf(w5, c) * xv;
    }
    if (acc) {
      s0 += ldf(add, r);
      s1 += ldf(add, r + 1);
      s2 += ldf(add, r + 2);
      s3 += ldf(add, r + 3);
      s4 += ldf(add, r + 4);
      s5 += ldf(add, r + 5);
    }
    stf(y, r, s0);
    stf(y, r + 1, s1);
    stf(y, r + 2, s2);
    stf(y, r + 3, s3);
    stf(y, r + 4, s4);
    stf(y, r + 5, s5);
  }
  // Up to five leftover rows: four at a time, each with one accumulator fed the pairwise sum of
  // two products per iteration (4 + 2 + 8 = 14 live vectors), then single rows.
  for (; r + 4 <= rows; r += 4) {
    const w0 = W + <usize>r * rb;
    const w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let c = 0;
    for (; c < c8; c += 8) {
      const o = <usize>c << 2;
      const x0 = v128.load(x + o);
      const x1 = v128.load(x + o, 16);
      a0 = f32x4.add(a0, f32x4.add(f32x4.mul(v128.load(w0 + o), x0), f32x4.mul(v128.load(w0 + o, 16), x1)));
      a1 = f32x4.add(a1, f32x4.add(f32x4.mul(v128.load(w1 + o), x0), f32x4.mul(v128.load(w1 + o, 16), x1)));
      a2 = f32x4.add(a2, f32x4.add(f32x4.mul(v128.load(w2 + o), x0), f32x4.mul(v128.load(w2 + o, 16), x1)));
      a3 = f32x4.add(a3, f32x4.add(f32x4.mul(v128.load(w3 + o), x0), f32x4.mul(v128.load(w3 + o, 16), x1)));
    }
    for (; c < c4; c += 4) {
      const o = <usize>c << 2;
      const x0 = v128.load(x + o);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(w0 + o), x0));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(w1 + o), x0));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(w2 + o), x0));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(w3 + o), x0));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (; c < cols; c++) {
      const xv = ldf(x, c);
      s0 += ldf(w0, c) * xv;
      s1 += ldf(w1, c) * xv;
      s2 += ldf(w2, c) * xv;
      s3 += ldf(w3, c) * xv;
    }
    if (acc) {
      s0 += ldf(add, r);
      s1 += ldf(add, r + 1);
      s2 += ldf(add, r + 2);
      s3 += ldf(add, r + 3);
    }
    stf(y, r, s0);
    stf(y, r + 1, s1);
    stf(y, r + 2, s2);
    stf(y, r + 3, s3);
  }
  for (; r < rows; r++) {
    const w0 = W + <usize>r * rb;
    let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
    let c = 0;
    for (; c < c8; c += 8) {
      const o = <usize>c << 2;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(w0 + o), v128.load(x + o)));
      b0 = f32x4.add(b0, f32x4.mul(v128.load(w0 + o, 16), v128.load(x + o, 16)));
    }
    for (; c < c4; c += 4) {
      const o = <usize>c << 2;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(w0 + o), v128.load(x + o)));
    }
    let s0 = hsum(f32x4.add(a0, b0));
    for (; c < cols; c++) s0 += ldf(w0, c) * ldf(x, c);
    if (acc) s0 += ldf(add, r);
    stf(y, r, s0);
  }
}

/** y[cols] = W[rows×cols]ᵀ·x (+ y when acc): axpy of four rows at a time into y. */
export function gemvT(y: usize, W: usize, x: usize, rows: i32, cols: i32, acc: i32): void {
  if (!acc) memory.fill(y, 0, <usize>cols << 2);
  const rb = <usize>cols << 2;
  const c4 = cols & ~3;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = W + <usize>r * rb;
    const w1 = w0 + rb;
    const w2 = w1 + rb;
    const w3 = w2 + rb;
    const s0 = ldf(x, r), s1 = ldf(x, r + 1), s2 = ldf(x, r + 2), s3 = ldf(x, r + 3);
    const x0 = f32x4.splat(s0), x1 = f32x4.splat(s1), x2 = f32x4.splat(s2), x3 = f32x4.splat(s3);
    let c = 0;
    for (; c < c4; c += 4) {
      const o = <usize>c << 2;
      // Sum the four rows' contributions first so y is loaded and stored once per 4 rows.
      const t = f32x4.add(
        f32x4.add(f32x4.mul(v128.load(w0 + o), x0), f32x4.mul(v128.load(w1 + o), x1)),
        f32x4.add(f32x4.mul(v128.load(w2 + o), x2), f32x4.mul(v128.load(w3 + o), x3)),
      );
      v128.store(y + o, f32x4.add(v128.load(y + o), t));
    }
    for (; c < cols; c++) {
      stf(y, c, ldf(y, c) + ((ldf(w0, c) * s0 + ldf(w1, c) * s1) + (ldf(w2, c) * s2 + ldf(w3, c) * s3)));
    }
  }
  for (; r < rows; r++) {
    const w0 = W + <usize>r * rb;
    const s0 = ldf(x, r);
    const x0 = f32x4.splat(s0);
    let c = 0;
    for (; c < c4; c += 4) {
      const o = <usize>c << 2;
      v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(v128.load(w0 + o), x0)));
    }
    for (; c < cols; c++) stf(y, c, ldf(y, c) + ldf(w0, c) * s0);
  }
}

/**
 * C[M×N] = A[M×K]·Bm[N×K]ᵀ (+ C when acc). Dot-product form with a 4×2 register block: each
 * k-step loads 4 vectors of A and 2 of Bm and feeds 8 accumulators (6 loads per 8 mul-adds
 * instead of 2 per 1), which is what lifts GEMM above GEMV speed.
 */
export function gemmABt(C: usize, A: usize, Bm: usize, M: i32, N: i32, K: i32, acc: i32): void {
  const kb = <usize>K << 2;
  const k4 = K & ~3;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = A + <usize>i * kb;
    const a1 = a0 + kb;
    const a2 = a1 + kb;
    const a3 = a2 + kb;
    let j = 0;
    for (; j + 2 <= N; j += 2) {
      const p0 = Bm + <usize>j * kb;
      const p1 = p0 + kb;
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let k = 0;
      for (; k < k4; k += 4) {
        const o = <usize>k << 2;
        const b0 = v128.load(p0 + o);
        const b1 = v128.load(p1 + o);
        const v0 = v128.load(a0 + o);
        c00 = f32x4.add(c00, f32x4.mul(v0, b0));
        c01 = f32x4.add(c01, f32x4.mul(v0, b1));
        const v1 = v128.load(a1 + o);
        c10 = f32x4.add(c10, f32x4.mul(v1, b0));
        c11 = f32x4.add(c11, f32x4.mul(v1, b1));
        const v2 = v128.load(a2 + o);
        c20 = f32x4.add(c20, f32x4.mul(v2, b0));
        c21 = f32x4.add(c21, f32x4.mul(v2, b1));
        const v3 = v128.load(a3 + o);
        c30 = f32x4.add(c30, f32x4.mul(v3, b0));
        c31 = f32x4.add(c31, f32x4.mul(v3, b1));
      }
      let s00 = hsum(c00), s01 = hsum(c01), s10 = hsum(c10), s11 = hsum(c11);
      let s20 = hsum(c20), s21 = hsum(c21), s30 = hsum(c30), s31 = hsum(c31);
      for (; k < K; k++) {
        const q0 = ldf(p0, k), q1 = ldf(p1, k);
        const e0 = ldf(a0, k), e1 = ldf(a1, k), e2 = ldf(a2, k), e3 = ldf(a3, k);
        s00 += e0 * q0; s01 += e0 * q1;
        s10 += e1 * q0; s11 += e1 * q1;
        s20 += e2 * q0; s21 += e2 * q1;
        s30 += e3 * q0; s31 += e3 * q1;
      }
      const c0 = C + ((<usize>i * <usize>N + <usize>j) << 2);
      const rs = <usize>N << 2;
      if (acc) {
        s00 += load<f32>(c0); s01 += load<f32>(c0, 4);
        s10 += load<f32>(c0 + rs); s11 += load<f32>(c0 + rs, 4);
        s20 += load<f32>(c0 + 2 * rs); s21 += load<f32>(c0 + 2 * rs, 4);
        s30 += load<f32>(c0 + 3 * rs); s31 += load<f32>(c0 + 3 * rs, 4);
      }
      store<f32>(c0, s00); store<f32>(c0, s01, 4);
      store<f32>(c0 + rs, s10); store<f32>(c0 + rs, s11, 4);
      store<f32>(c0 + 2 * rs, s20); store<f32>(c0 + 2 * rs, s21, 4);
      store<f32>(c0 + 3 * rs, s30); store<f32>(c0 + 3 * rs, s31, 4);
    }
    for (; j < N; j++) {
      for (let ii = 0; ii < 4; ii++) dotInto(C, i + ii, j, N, A + <usize>(i + ii) * kb, Bm + <usize>j * kb, K, acc);
    }
  }
  // Leftover rows (all of them when M < 4, e.g. small batches): GEMV-style, 4 rows of Bm at a
  // time against one row of A, so each loaded A vector still feeds 4 accumulators.
  for (; i < M; i++) {
    const a0 = A + <usize>i * kb;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const p0 = Bm + <usize>j * kb;
      const p1 = p0 + kb;
      const p2 = p1 + kb;
      const p3 = p2 + kb;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let k = 0;
      for (; k < k4; k += 4) {
        const o = <usize>k << 2;
        const v = v128.load(a0 + o);
        c0 = f32x4.add(c0, f32x4.mul(v, v128.load(p0 + o)));
        c1 = f32x4.add(c1, f32x4.mul(v, v128.load(p1 + o)));
        c2 = f32x4.add(c2, f32x4.mul(v, v128.load(p2 + o)));
        c3 = f32x4.add(c3, f32x4.mul(v, v128.load(p3 + o)));
      }
      let s0 = hsum(c0), s1 = hsum(c1), s2 = hsum(c2), s3 = hsum(c3);
      for (; k < K; k++) {
        const e = ldf(a0, k);
        s0 += e * ldf(p0, k);
        s1 += e * ldf(p1, k);
        s2 += e * ldf(p2, k);
        s3 += e * ldf(p3, k);
      }
      const c = C + ((<usize>i * <usize>N + <usize>j) << 2);
      if (acc) {
        s0 += load<f32>(c); s1 += load<f32>(c, 4); s2 += load<f32>(c, 8); s3 += load<f32>(c, 12);
      }
      store<f32>(c, s0); store<f32>(c, s1, 4); store<f32>(c, s2, 8); store<f32>(c, s3, 12);
    }
    for (; j < N; j++) dotInto(C, i, j, N, a0, Bm + <usize>j * kb, K, acc);
  }
}

/** C[i, j] = (C[i, j] if acc) + a[0..K)·b[0..K): the edge case of gemmABt. */
function dotInto(C: usize, i: i32, j: i32, N: i32, a: usize, b: usize, K: i32, acc: i32): void {
  const k4 = K & ~3;
  let v = f32x4.splat(0);
  let k = 0;
  for (; k < k4; k += 4) {
    const o = <usize>k << 2;
    v = f32x4.add(v, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = hsum(v);
  for (; k < K; k++) s += ldf(a, k) * ldf(b, k);
  const p = C + ((<usize>i * <usize>N + <usize>j) << 2);
  if (acc) s += load<f32>(p);
  store<f32>(p, s);
}

/** k-chunk of the broadcast core: 256 rows × one 64-byte line of a Bm panel = 16 KiB, L1-resident. */
const KC = 256;

/**
 * C[M×N] = A[M×K]·Bm[K×N] (+ C when acc): C[i, j..] += A[i, k]·Bm[k, j..]. Panels of 16
 * columns × 2 rows of C live in 8 registers through a k-chunk while a scalar of A is broadcast
 * against one cache line of Bm; chunking k keeps the panel's lines in L1 across all rows of A.
 */
export function gemmAB(C: usize, A: usize, Bm: usize, M: i32, N: i32, K: i32, acc: i32): void {
  if (K == 0) {
    if (!acc) memory.fill(C, 0, <usize>M * <usize>N << 2);
    return;
  }
  const nb = <usize>N << 2;
  const kb = <usize>K << 2;
  let j = 0;
  for (; j + 16 <= N; j += 16) {
    for (let k0 = 0; k0 < K; k0 += KC) {
      const k1 = min(K, k0 + KC);
      // Later chunks add to what the earlier ones stored.
      const accumulate = acc || k0 > 0;
      const bj = Bm + <usize>k0 * nb + (<usize>j << 2);
      let i = 0;
      for (; i + 2 <= M; i += 2) {
        const r0 = C + <usize>i * nb + (<usize>j << 2);
        const r1 = r0 + nb;
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
        if (accumulate) {
          c00 = v128.load(r0); c01 = v128.load(r0, 16); c02 = v128.load(r0, 32); c03 = v128.load(r0, 48);
          c10 = v128.load(r1); c11 = v128.load(r1, 16); c12 = v128.load(r1, 32); c13 = v128.load(r1, 48);
        }
        let pa0 = A + <usize>i * kb + (<usize>k0 << 2);
        let pa1 = pa0 + kb;
        let pb = bj;
        for (let k = k0; k < k1; k++) {
          const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
          const x0 = f32x4.splat(load<f32>(pa0));
          const x1 = f32x4.splat(load<f32>(pa1));
          c00 = f32x4.add(c00, f32x4.mul(x0, b0));
          c01 = f32x4.add(c01, f32x4.mul(x0, b1));
          c02 = f32x4.add(c02, f32x4.mul(x0, b2));
          c03 = f32x4.add(c03, f32x4.mul(x0, b3));
          c10 = f32x4.add(c10, f32x4.mul(x1, b0));
          c11 = f32x4.add(c11, f32x4.mul(x1, b1));
          c12 = f32x4.add(c12, f32x4.mul(x1, b2));
          c13 = f32x4.add(c13, f32x4.mul(x1, b3));
          pa0 += 4;
          pa1 += 4;
          pb += nb;
        }
        v128.store(r0, c00); v128.store(r0, c01, 16); v128.store(r0, c02, 32); v128.store(r0, c03, 48);
        v128.store(r1, c10); v128.store(r1, c11, 16); v128.store(r1, c12, 32); v128.store(r1, c13, 48);
      }
      for (; i < M; i++) {
        const r0 = C + <usize>i * nb + (<usize>j << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
        if (accumulate) {
          c00 = v128.load(r0); c01 = v128.load(r0, 16); c02 = v128.load(r0, 32); c03 = v128.load(r0, 48);
        }
        let pa0 = A + <usize>i * kb + (<usize>k0 << 2);
        let pb = bj;
        for (let k = k0; k < k1; k++) {
          const x0 = f32x4.splat(load<f32>(pa0));
          c00 = f32x4.add(c00, f32x4.mul(x0, v128.load(pb)));
          c01 = f32x4.add(c01, f32x4.mul(x0, v128.load(pb, 16)));
          c02 = f32x4.add(c02, f32x4.mul(x0, v128.load(pb, 32)));
          c03 = f32x4.add(c03, f32x4.mul(x0, v128.load(pb, 48)));
          pa0 += 4;
          pb += nb;
        }
        v128.store(r0, c00); v128.store(r0, c01, 16); v128.store(r0, c02, 32); v128.store(r0, c03, 48);
      }
    }
  }
  // Remaining columns: 4-wide vectors, then scalars, one row at a time.
  for (; j + 4 <= N; j += 4) {
    for (let i = 0; i < M; i++) {
      const r0 = C + <usize>i * nb + (<usize>j << 2);
      let c0 = acc ? v128.load(r0) : f32x4.splat(0);
      let pa0 = A + <usize>i * kb;
      let pb = Bm + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(pa0)), v128.load(pb)));
        pa0 += 4;
        pb += nb;
      }
      v128.store(r0, c0);
    }
  }
  for (; j < N; j++) {
    for (let i = 0; i < M; i++) {
      const r0 = C + <usize>i * nb + (<usize>j << 2);
      let s: f32 = acc ? load<f32>(r0) : 0;
      let pa0 = A + <usize>i * kb;
      let pb = Bm + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s += load<f32>(pa0) * load<f32>(pb);
        pa0 += 4;
        pb += nb;
      }
      store<f32>(r0, s);
    }
  }
}

/**
 * C[M×N] = A[K×M]ᵀ·Bm[K×N] (+ C when acc). A is first transposed into the caller's workspace
 * ws (M·K floats): reading A's columns in place strides by M·4 bytes, which for M a multiple of
 * 1024 maps every access to one L1 set; the O(M·K) transpose is small next to the O(M·N·K) product.
 */
export function gemmAtB(C: usize, A: usize, Bm: usize, M: i32, N: i32, K: i32, acc: i32, ws: usize): void {
  for (let k = 0; k < K; k++) {
    const src = A + ((<usize>k * <usize>M) << 2);
    for (let i = 0; i < M; i++) {
      store<f32>(ws + ((<usize>i * <usize>K + <usize>k) << 2), load<f32>(src + (<usize>i << 2)));
    }
  }
  gemmAB(C, ws, Bm, M, N, K, acc);
}

/** A[rows×cols] += alpha·x yᵀ. */
export function ger(A: usize, x: usize, y: usize, rows: i32, cols: i32, alpha: f32): void {
  const rb = <usize>cols << 2;
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const a = A + <usize>r * rb;
    const s = alpha * ldf(x, r);
    const v = f32x4.splat(s);
    let c = 0;
    for (; c < c4; c += 4) {
      const o = <usize>c << 2;
      v128.store(a + o, f32x4.add(v128.load(a + o), f32x4.mul(v, v128.load(y + o))));
    }
    for (; c < cols; c++) stf(a, c, ldf(a, c) + s * ldf(y, c));
  }
}
