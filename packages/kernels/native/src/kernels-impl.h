// Kernel bodies for one instruction set, included by isa-avx512.c, isa-avx2.c and isa-portable.c
// after they set VW (float lanes per vector), the register-block sizes and SUFFIX. Written with
// GCC vector extensions, so the same source becomes AVX-512, AVX2+FMA, SSE2 or NEON code; every
// reduction runs in an order fixed by the shapes alone (never by the thread split), so results
// are identical run to run and with any number of threads. Buffers belong to the caller.
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SUFFIX)
#define AI static inline __attribute__((always_inline))

typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));

AI vf ld(const float *p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}
AI void st(float *p, vf v) { memcpy(p, &v, sizeof v); }
/** The first n (< VW) lanes from p, the rest zero; stn stores the first n lanes. Masked where the
 * instruction set has masked moves (nothing past p + n is touched), else through a small buffer. */
#if VW == 16 && defined(__AVX512F__)
#include <immintrin.h>
AI vf ldn(const float *p, int n) { return (vf)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
AI void stn(float *p, vf v, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v); }
#elif VW == 8 && defined(__AVX2__)
#include <immintrin.h>
AI __m256i tail_mask(int n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}
AI vf ldn(const float *p, int n) { return (vf)_mm256_maskload_ps(p, tail_mask(n)); }
AI void stn(float *p, vf v, int n) { _mm256_maskstore_ps(p, tail_mask(n), (__m256)v); }
#else
AI vf ldn(const float *p, int n) {
  float t[VW] = {0};
  for (int i = 0; i < n; i++) t[i] = p[i];
  return ld(t);
}
AI void stn(float *p, vf v, int n) {
  float t[VW];
  st(t, v);
  for (int i = 0; i < n; i++) p[i] = t[i];
}
#endif
AI vf splat(float s) { return (vf){0} + s; }
/** *p in every lane, loaded by one broadcast where the instruction set has it (splat adds 0 to
 * the scalar first: −0 becomes +0, which changes no sum that starts from +0). */
#if VW == 16 && defined(__AVX512F__)
AI vf ldsplat(const float *p) { return (vf)_mm512_set1_ps(*p); }
#elif VW == 8 && defined(__AVX2__)
AI vf ldsplat(const float *p) { return (vf)_mm256_broadcast_ss(p); }
#else
AI vf ldsplat(const float *p) { return splat(*p); }
#endif
/** Lanes of a where m is set (all ones), else b (AVX2: one blend on m's sign bits). */
#if VW == 8 && defined(__AVX2__)
AI vf sel(vi m, vf a, vf b) { return (vf)_mm256_blendv_ps((__m256)b, (__m256)a, (__m256)m); }
#else
AI vf sel(vi m, vf a, vf b) { return (vf)(((vi)a & m) | ((vi)b & ~m)); }
#endif

/** Sum of the lanes, halves added pairwise (a fixed tree: lane i + lane i + w for w = VW/2, …, 1),
 * in registers. The halves come from __builtin_shufflevector (GCC 12+, Clang), else from memcpy
 * (same sums, slower code for 16 lanes). */
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf4 __attribute__((vector_size(16)));
typedef float vf2 __attribute__((vector_size(8)));
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define RX_SHUFFLEVECTOR
#endif
#endif
AI float hsum(vf v) {
#if VW == 16
#ifdef RX_SHUFFLEVECTOR
  vf8 a8 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
  vf8 b8 = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
#else
  vf8 a8, b8;
  memcpy(&a8, &v, 32);
  memcpy(&b8, (const char *)&v + 32, 32);
#endif
  vf8 s8 = a8 + b8;
#elif VW == 8
  vf8 s8 = v;
#endif
#if VW >= 8
  vf4 a4, b4;
  memcpy(&a4, &s8, 16);
  memcpy(&b4, (const char *)&s8 + 16, 16);
  vf4 s4 = a4 + b4;
#else
  vf4 s4 = v;
#endif
  vf2 a2, b2;
  memcpy(&a2, &s4, 8);
  memcpy(&b2, (const char *)&s4 + 8, 8);
  vf2 s2 = a2 + b2;
  return s2[0] + s2[1];
}

// ---- exp, sigmoid, tanh on vectors (float32, ~2 ulp; overflow exact, NaN propagates) ----------

/** The polynomial core of vexp for xc already in range: 2^n·e^r with n = round(xc·log2 e),
 * r = xc − n·ln 2 (two-part ln 2), e^r of degree 6. */
AI vf vexp_core(vf xc) {
  const vf shifter = splat(12582912.0f);  // 1.5·2^23: adding it rounds to an integer
  vf t = xc * splat(1.44269504088896341f) + shifter;
  vf n = t - shifter;
  vf r = xc - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  vf p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  p = p * (r * r) + r + splat(1.0f);
  vi e = __builtin_convertvector(n, vi);
  vf scale = (vf)((e + 127) << 23);
  return p * scale;
}

#define EXP_HI 88.3762626647949f
#define EXP_LO -87.3365447505531f
#define TANH_SMALL 0.625f

/** An odd polynomial for tanh below |x| = TANH_SMALL. */
AI vf vtanh_small(vf x) {
  vf z = x * x;
  vf p = splat(-5.70498872745e-3f);
  p = p * z + splat(2.06390887954e-2f);
  p = p * z + splat(-5.37397155531e-2f);
  p = p * z + splat(1.33314422036e-1f);
  p = p * z + splat(-3.33332819422e-1f);
  return p * z * x + x;
}

#if VW == 16 && defined(__AVX512F__)
// AVX-512: the same arithmetic, with the range and NaN fix-ups as compare masks, min/max and
// masked moves, fewer instructions than selects on vectors. The bits are the generic form's: the
// clamp gives the same in-range value, and every other lane is overwritten as there.

/** e^x (float32, ~2 ulp; overflow to +inf, underflow below EXP_LO to 0, NaN propagates). */
AI vf vexp(vf x) {
  const __m512 xv = (__m512)x, hi = _mm512_set1_ps(EXP_HI), lo = _mm512_set1_ps(EXP_LO);
  const __mmask16 over = _mm512_cmp_ps_mask(xv, hi, _CMP_GT_OQ), under = _mm512_cmp_ps_mask(xv, lo, _CMP_LT_OQ),
                  nan = _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q);
  __m512 y = (__m512)vexp_core((vf)_mm512_min_ps(_mm512_max_ps(xv, lo), hi));
  y = _mm512_mask_mov_ps(y, over, _mm512_set1_ps(__builtin_inff()));
  y = _mm512_mask_mov_ps(y, under, _mm512_setzero_ps());
  return (vf)_mm512_mask_mov_ps(y, nan, xv);
}

/** tanh's lanes: vtanh_small(x) below |x| = TANH_SMALL, x where NaN, else big. */
AI vf tanh_pick(vf x, vf ax, vf big) {
  const __mmask16 small = _mm512_cmp_ps_mask((__m512)ax, _mm512_set1_ps(TANH_SMALL), _CMP_LT_OQ),
                  nan = _mm512_cmp_ps_mask((__m512)x, (__m512)x, _CMP_UNORD_Q);
  __m512 y = _mm512_mask_mov_ps((__m512)big, nan, (__m512)x);
  return (vf)_mm512_mask_mov_ps(y, small, (__m512)vtanh_small(x));
}
#else
/** e^x (float32, ~2 ulp; overflow to +inf, underflow below EXP_LO to 0, NaN propagates). */
AI vf vexp(vf x) {
  const vf hi = splat(EXP_HI), lo = splat(EXP_LO);
  vi over = x > hi, under = x < lo;
  vf y = vexp_core(sel(over, hi, sel(under, lo, x)));
  y = sel(over, splat(__builtin_inff()), y);
  y = sel(under, splat(0.0f), y);
  return sel(x != x, x, y);
}

/** tanh's lanes: vtanh_small(x) below |x| = TANH_SMALL, x where NaN, else big. */
AI vf tanh_pick(vf x, vf ax, vf big) { return sel(ax < splat(TANH_SMALL), vtanh_small(x), sel(x != x, x, big)); }
#endif

AI vf vsigmoid(vf x) { return splat(1.0f) / (splat(1.0f) + vexp(-x)); }

/** tanh: vtanh_small below |x| = TANH_SMALL, else 1 − 2/(e^{2|x|} + 1); sign restored. */
AI vf vtanh(vf x) {
  const vi signbit = (vi){0} + (int32_t)0x80000000;
  vf ax = (vf)((vi)x & ~signbit);
  vf big = splat(1.0f) - splat(2.0f) / (vexp(ax + ax) + splat(1.0f));
  big = (vf)((vi)big | ((vi)x & signbit));
  return tanh_pick(x, ax, big);
}

// ---- elementwise loops: whole vectors, then one zero-padded tail vector ----------------------

#define EACH(n, ...)                     \
  do {                                    \
    int i_ = 0;                           \
    for (; i_ + VW <= (n); i_ += VW) {    \
      const int w_ = VW;                  \
      (void)w_;                           \
      int i = i_;                         \
      __VA_ARGS__                         \
    }                                     \
    if (i_ < (n)) {                       \
      const int w_ = (n) - i_;            \
      (void)w_;                           \
      int i = i_;                         \
      __VA_ARGS__                         \
    }                                     \
  } while (0)
// Inside EACH: L(p) loads lanes [i, i + w_) of p, S(p, v) stores them.
#define L(p) (w_ == VW ? ld((p) + i) : ldn((p) + i, w_))
#define S(p, v) (w_ == VW ? st((p) + i, (v)) : stn((p) + i, (v), w_))

// ---- GEMV family ------------------------------------------------------------------------------

/**
 * Dot products of dr rows of A with dc rows of Bm over K, into C[i0 + r][j0 + c] (acc: +=, one
 * addition each): per output one vector accumulator over whole vectors of k, a zero-padded tail
 * vector, then the fixed lane tree (hsum). gemv, the fused steps and the small-batch A·Bᵀ all
 * form their dot products here, so a row gives the same bits whichever of them or which thread
 * computes it; the tile only shares loads (a row of Bm across dr rows of A, and back).
 */
AI void dot_tile(float *C, const float *A, const float *Bm, int i0, int j0, const int dr, const int dc, int N,
                 int K, int acc) {
  vf a[DR][DC];
#pragma GCC unroll 8
  for (int r = 0; r < dr; r++)
#pragma GCC unroll 8
    for (int c = 0; c < dc; c++) a[r][c] = splat(0.0f);
  const float *ap = A + (size_t)i0 * K, *bp = Bm + (size_t)j0 * K;
  int k = 0;
  for (; k + VW <= K; k += VW) {
    vf b[DC];
#pragma GCC unroll 8
    for (int c = 0; c < dc; c++) b[c] = ld(bp + (size_t)c * K + k);
#pragma GCC unroll 8
    for (int r = 0; r < dr; r++) {
      vf x = ld(ap + (size_t)r * K + k);
#pragma GCC unroll 8
      for (int c = 0; c < dc; c++) a[r][c] += b[c] * x;
    }
  }
  if (k < K) {
    const int n = K - k;
    vf b[DC];
#pragma GCC unroll 8
    for (int c = 0; c < dc; c++) b[c] = ldn(bp + (size_t)c * K + k, n);
#pragma GCC unroll 8
    for (int r = 0; r < dr; r++) {
      vf x = ldn(ap + (size_t)r * K + k, n);
#pragma GCC unroll 8
      for (int c = 0; c < dc; c++) a[r][c] += b[c] * x;
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < dr; r++) {
    float *cr = C + (size_t)(i0 + r) * N + j0;
#pragma GCC unroll 8
    for (int c = 0; c < dc; c++) {
      const float s = hsum(a[r][c]);
      cr[c] = acc ? cr[c] + s : s;
    }
  }
}

/** Rows [r0, r1) of y = W·x (acc: y += W·x, one addition per row), DC rows per pass over x. */
void FN(rx_gemv_rows)(float *y, const float *W, const float *x, int r0, int r1, int cols, int acc) {
  int r = r0;
  for (; r + DC <= r1; r += DC) dot_tile(y, x, W, 0, r, 1, DC, 0, cols, acc);
  for (; r < r1; r++) dot_tile(y, x, W, 0, r, 1, 1, 0, cols, acc);
}

/** y[cols] = Wᵀ·x (acc: +=): columns in vectors, rows in order, x[r] broadcast. */
void FN(rx_gemvT)(float *y, const float *W, const float *x, int rows, int cols, int acc) {
  int c = 0;
  for (; c + 4 * VW <= cols; c += 4 * VW) {
    vf a0 = splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (int r = 0; r < rows; r++) {
      const float *w = W + (size_t)r * cols + c;
      vf xv = splat(x[r]);
      a0 += ld(w) * xv;
      a1 += ld(w + VW) * xv;
      a2 += ld(w + 2 * VW) * xv;
      a3 += ld(w + 3 * VW) * xv;
    }
    if (acc) {
      a0 += ld(y + c);
      a1 += ld(y + c + VW);
      a2 += ld(y + c + 2 * VW);
      a3 += ld(y + c + 3 * VW);
    }
    st(y + c, a0);
    st(y + c + VW, a1);
    st(y + c + 2 * VW, a2);
    st(y + c + 3 * VW, a3);
  }
  for (; c < cols; c += VW) {
    int n = cols - c < VW ? cols - c : VW;
    vf a = splat(0.0f);
    for (int r = 0; r < rows; r++) a += ldn(W + (size_t)r * cols + c, n) * splat(x[r]);
    if (acc) a += ldn(y + c, n);
    stn(y + c, a, n);
  }
}

/** A += alpha·x·yᵀ, row by row. */
void FN(rx_ger)(float *A, const float *x, const float *y, int rows, int cols, float alpha) {
  for (int r = 0; r < rows; r++) {
    float *a = A + (size_t)r * cols;
    vf s = splat(alpha * x[r]);
    EACH(cols, { S(a, L(a) + s * L(y)); });
  }
}

// ---- GEMM -------------------------------------------------------------------------------------

/**
 * C = op(A)·B with B [K × N] row-major (gemmAB: A [M × K]; gemmAtB: A [K × M]): a register tile
 * of MR rows × NV vectors of C, A's values broadcast against rows of B, k in blocks of KC whose
 * partial sums are added to C once. Tasks of MB rows × NB columns.
 */
#define KC 512
#define BC_MB (MR * 8)
#define BC_NB (NV * VW * 4)

AI void bc_tile(float *C, const float *A, const float *B, int i0, int j0, int mr, int nv, int N, size_t ars,
                size_t aks, int k0, int k1, int store) {
  vf a[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) a[r][v] = splat(0.0f);
  const float *ap = A + (size_t)i0 * ars + (size_t)k0 * aks;
  const float *bp = B + (size_t)k0 * N + j0;
  for (int k = k0; k < k1; k++) {
    vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      if (v < nv) bv[v] = ld(bp + v * VW);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      if (r < mr) {
        vf av = splat(ap[r * ars]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
          if (v < nv) a[r][v] += av * bv[v];
      }
    }
    ap += aks;
    bp += N;
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
    if (r < mr) {
      float *cr = C + (size_t)(i0 + r) * N + j0;
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        if (v < nv) {
          vf o = a[r][v];
          if (!store) o += ld(cr + v * VW);
          st(cr + v * VW, o);
        }
      }
    }
  }
}

/** Columns [j0, j1) (fewer than VW) of rows [i0, i1): scalar sums in the same k order. */
static void bc_cols(float *C, const float *A, const float *B, int i0, int i1, int j0, int j1, int N, size_t ars,
                    size_t aks, int k0, int k1, int store) {
  for (int i = i0; i < i1; i++) {
    for (int j = j0; j < j1; j++) {
      float s = 0.0f;
      for (int k = k0; k < k1; k++) s += A[(size_t)i * ars + (size_t)k * aks] * B[(size_t)k * N + j];
      float *o = C + (size_t)i * N + j;
      *o = store ? s : *o + s;
    }
  }
}

// A tile with mr < MR rows: one call per row count so each inlined copy is fully unrolled.
#define BC_CASE(n)                                                       \
  case n:                                                               \
    bc_tile(C, A, B, i, j, n, nv, N, ars, aks, k0, k1, store); \
    break;

static void bc_part(float *C, const float *A, const float *B, int i, int j, int mr, int nv, int N, size_t ars,
                    size_t aks, int k0, int k1, int store) {
  if (nv == NV) {
    switch (mr) {
      BC_CASE(1)
      BC_CASE(2)
      BC_CASE(3)
      BC_CASE(4)
      BC_CASE(5)
      BC_CASE(6)
      BC_CASE(7)
      BC_CASE(8)
#if MR > 8
      BC_CASE(9)
      BC_CASE(10)
      BC_CASE(11)
      BC_CASE(12)
#endif
      default:
        break;
    }
  } else {
    // Fewer than NV vectors of columns: a full-height tile with nv vectors, else row by row.
    for (int r = 0; r < (mr == MR ? 1 : mr); r++) {
      const int m = mr == MR ? MR : 1;
      switch (nv) {
        case 1:
          if (m == MR)
            bc_tile(C, A, B, i, j, MR, 1, N, ars, aks, k0, k1, store);
          else
            bc_tile(C, A, B, i + r, j, 1, 1, N, ars, aks, k0, k1, store);
          break;
#if NV > 2
        case 2:
          if (m == MR)
            bc_tile(C, A, B, i, j, MR, 2, N, ars, aks, k0, k1, store);
          else
            bc_tile(C, A, B, i + r, j, 1, 2, N, ars, aks, k0, k1, store);
          break;
#endif
        default:
          break;
      }
    }
  }
}

/**
 * Columns per task: as many blocks as BC_NB-wide ones would need, of equal widths in whole
 * vectors, so that the tasks of a product with one row block (a batch of 32: dh = dPre·W) share
 * evenly between threads (N = 256 was one block of 192 columns and one of 64). The width changes
 * which tile computes an element, never the order of its sum.
 */
AI int bc_width(int N) {
  const int blocks = (N + BC_NB - 1) / BC_NB;
  const int w = (N + blocks - 1) / blocks;
  return (w + VW - 1) / VW * VW;
}

int FN(rx_gemmBc_tasks)(int M, int N) {
  const int w = N > 0 ? bc_width(N) : 1;
  return ((M + BC_MB - 1) / BC_MB) * ((N + w - 1) / w);
}

void FN(rx_gemmBc_task)(const rx_gemm_args *g, int t) {
  const int M = g->M, N = g->N, K = g->K;
  const size_t ars = g->transA ? 1 : (size_t)K, aks = g->transA ? (size_t)M : 1;
  const int width = bc_width(N);
  const int nbk = (N + width - 1) / width;
  const int i0 = (t / nbk) * BC_MB, j0 = (t % nbk) * width;
  const int i1 = i0 + BC_MB < M ? i0 + BC_MB : M, j1 = j0 + width < N ? j0 + width : N;
  const float *A = g->A, *B = g->B;
  float *C = g->C;
  if (K == 0) {
    if (!g->acc)
      for (int i = i0; i < i1; i++) memset(C + (size_t)i * N + j0, 0, (size_t)(j1 - j0) * 4);
    return;
  }
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int k1 = k0 + KC < K ? k0 + KC : K;
    const int store = k0 == 0 && !g->acc;
    int j = j0;
    for (; j + NV * VW <= j1; j += NV * VW) {
      int i = i0;
      for (; i + MR <= i1; i += MR) bc_tile(C, A, B, i, j, MR, NV, N, ars, aks, k0, k1, store);
      if (i < i1) bc_part(C, A, B, i, j, i1 - i, NV, N, ars, aks, k0, k1, store);
    }
    if (j + VW <= j1) {
      const int nv = (j1 - j) / VW;
      for (int i = i0; i < i1; i += MR) bc_part(C, A, B, i, j, i1 - i < MR ? i1 - i : MR, nv, N, ars, aks, k0, k1, store);
      j += nv * VW;
    }
    if (j < j1) bc_cols(C, A, B, i0, i1, j, j1, N, ars, aks, k0, k1, store);
  }
}

/**
 * C = A·Bmᵀ as Cᵀ = Bm·Aᵀ: Aᵀ is packed once per call into panels of up to MB rows of A (K rows
 * each, zero-padded to whole vectors); rows of Bm are broadcast against a panel in register tiles
 * of MRn rows × n vectors (n = NV, 2 or 1 vectors, the row count chosen per width so the tile
 * fills the registers), and each tile is stored transposed into C. A k-block's partial sums are
 * added to C once. Tasks of NB rows of Bm (columns of C) × MB rows of A.
 */
#define BT_NB 96
#define BT_MB (NV * VW * 2)
#define MRMAX 16

AI void bt_tile(float *C, const float *Bm, const float *pa, int j0, int i0, const int MRX, int mr, const int nv,
                int mw, int N, int K, int k0, int k1, int pw, int store) {
  vf a[MRMAX][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MRX; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) a[r][v] = splat(0.0f);
  const float *bp = Bm + (size_t)j0 * K + k0;
  const float *pp = pa;
  for (int k = k0; k < k1; k++) {
    vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      if (v < nv) bv[v] = ld(pp + v * VW);
#pragma GCC unroll 16
    for (int r = 0; r < MRX; r++) {
      if (r < mr) {
        vf av = splat(bp[(size_t)r * K]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
          if (v < nv) a[r][v] += av * bv[v];
      }
    }
    bp++;
    pp += pw;
  }
  float t[MRMAX][NV * VW];
#pragma GCC unroll 16
  for (int r = 0; r < MRX; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      if (r < mr && v < nv) st(&t[r][v * VW], a[r][v]);
  const int iw = mw < nv * VW ? mw : nv * VW;
  for (int i = 0; i < iw; i++) {
    float *c = C + (size_t)(i0 + i) * N + j0;
    if (store) {
      for (int r = 0; r < mr; r++) c[r] = t[r][i];
    } else {
      for (int r = 0; r < mr; r++) c[r] += t[r][i];
    }
  }
}

/** Rows [j, j1) of Bm against one panel slice of nv vectors: full tiles of MRX rows, then single rows. */
#define BT_ROWS(MRX, NVC)                                                                              \
  do {                                                                                                \
    int j = j0;                                                                                       \
    for (; j + (MRX) <= j1; j += (MRX))                                                               \
      bt_tile(C, Bm, pa + p, j, i0 + p, (MRX), (MRX), (NVC), mw - p, N, K, k0, k1, pw, store);        \
    for (; j < j1; j++) bt_tile(C, Bm, pa + p, j, i0 + p, 1, 1, (NVC), mw - p, N, K, k0, k1, pw, store); \
  } while (0)

/**
 * Few rows of A (M ≤ DOT_M, a small batch of streams): lanes across M would sit mostly empty, so
 * each C[i][j] is instead the dot product of row i of A and row j of Bm in dot_tile, as gemv
 * forms it: a row of a small batch equals the same row stepped alone. Tiles of DR rows of A × DC
 * rows of Bm; no packing. Tasks of DOT_NB rows of Bm (columns of C).
 */
#ifndef DOT_M /* (bench/gemm.c sets 0 to time the packed tiles instead) */
#define DOT_M (VW - VW / 4)
#endif
#define DOT_NB 96
#if DR != 4
#error "DOT_COLS below runs the last 1-3 rows of A: it assumes tiles of DR = 4 rows"
#endif

/** Rows [i0, M) of A against rows [j, j + dc) of Bm: tiles of DR rows, then the rest at once. */
#define DOT_COLS(DCX)                                                            \
  do {                                                                            \
    int i = 0;                                                                    \
    for (; i + DR <= M; i += DR) dot_tile(C, A, Bm, i, j, DR, (DCX), N, K, acc); \
    switch (M - i) {                                                              \
      case 1:                                                                     \
        dot_tile(C, A, Bm, i, j, 1, (DCX), N, K, acc);                            \
        break;                                                                    \
      case 2:                                                                     \
        dot_tile(C, A, Bm, i, j, 2, (DCX), N, K, acc);                            \
        break;                                                                    \
      case 3:                                                                     \
        dot_tile(C, A, Bm, i, j, 3, (DCX), N, K, acc);                            \
        break;                                                                    \
      default:                                                                    \
        break;                                                                    \
    }                                                                             \
  } while (0)

static void dot_task(const rx_gemm_args *g, int t) {
  const int M = g->M, N = g->N, K = g->K, acc = g->acc;
  const float *A = g->A, *Bm = g->B;
  float *C = g->C;
  const int j0 = t * DOT_NB, j1 = j0 + DOT_NB < N ? j0 + DOT_NB : N;
  int j = j0;
  for (; j + DC <= j1; j += DC) DOT_COLS(DC);
  for (; j < j1; j++) DOT_COLS(1);
}

int FN(rx_gemmABt_tasks)(int M, int N) {
  if (M <= DOT_M) return (N + DOT_NB - 1) / DOT_NB;
  return ((M + BT_MB - 1) / BT_MB) * ((N + BT_NB - 1) / BT_NB);
}

/** Floats of the packed Aᵀ that rx_gemmABt_pack writes (panels of BT_MB columns, K rows). */
size_t FN(rx_gemmABt_packSize)(int M, int K) {
  if (M <= DOT_M) return 0;
  return (size_t)((M + BT_MB - 1) / BT_MB) * BT_MB * (size_t)K;
}

/** Packs Aᵀ into panels: panel q holds [K × pw] with A's rows q·MB … as columns, zero-padded. */
void FN(rx_gemmABt_pack)(const rx_gemm_args *g) {
  const int M = g->M, K = g->K;
  if (M <= DOT_M) return;
  for (int i0 = 0; i0 < M; i0 += BT_MB) {
    const int mw = M - i0 < BT_MB ? M - i0 : BT_MB;
    const int pw = (mw + VW - 1) / VW * VW;
    float *pa = g->ws + (size_t)i0 * K;
    for (int k = 0; k < K; k++) memset(pa + (size_t)k * pw + mw, 0, (size_t)(pw - mw) * 4);
    for (int i = 0; i < mw; i++) {
      const float *ar = g->A + (size_t)(i0 + i) * K;
      for (int k = 0; k < K; k++) pa[(size_t)k * pw + i] = ar[k];
    }
  }
}

void FN(rx_gemmABt_task)(const rx_gemm_args *g, int t) {
  const int M = g->M, N = g->N, K = g->K;
  if (M <= DOT_M) {
    dot_task(g, t);
    return;
  }
  const int nbn = (N + BT_NB - 1) / BT_NB;
  const int i0 = (t / nbn) * BT_MB, j0 = (t % nbn) * BT_NB;
  const int i1 = i0 + BT_MB < M ? i0 + BT_MB : M, j1 = j0 + BT_NB < N ? j0 + BT_NB : N;
  const float *Bm = g->B;
  float *C = g->C;
  if (K == 0) {
    if (!g->acc)
      for (int i = i0; i < i1; i++) memset(C + (size_t)i * N + j0, 0, (size_t)(j1 - j0) * 4);
    return;
  }
  const int mw = i1 - i0;
  const int pw = (mw + VW - 1) / VW * VW;
  const float *panel = g->ws + (size_t)i0 * K;
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int k1 = k0 + KC < K ? k0 + KC : K;
    const int store = k0 == 0 && !g->acc;
    const float *pa = panel + (size_t)k0 * pw;
    for (int p = 0; p < pw;) {
      // Vectors left in this panel: whole NV-vector slices, but 4 as 2 + 2 (fuller tiles).
      const int left = (pw - p) / VW;
      const int nv = left >= NV && !(NV == 3 && left == 4) ? NV : left >= 2 ? 2 : 1;
      if (nv == NV)
        BT_ROWS(MR, NV);
#if NV > 2
      else if (nv == 2)
        BT_ROWS(MR2, 2);
#endif
      else
        BT_ROWS(MR1, 1);
      p += nv * VW;
    }
  }
}

// ---- gate kernels (batch rows b, gate blocks of H) ------------------------------------------

void FN(rx_rnnForward)(float *h, const float *pre, int B, int H) {
  int n = B * H;
  EACH(n, { S(h, vtanh(L(pre))); });
}

void FN(rx_rnnBackward)(float *dPre, const float *dh, const float *h, int B, int H) {
  int n = B * H;
  EACH(n, {
    vf y = L(h);
    S(dPre, L(dh) * (splat(1.0f) - y * y));
  });
}

void FN(rx_lstmForward)(float *h, float *c, float *act, const float *pre, const float *cPrev, int B, int H) {
  for (int b = 0; b < B; b++) {
    const float *p = pre + (size_t)b * 4 * H;
    float *a = act + (size_t)b * 4 * H;
    float *hb = h + (size_t)b * H, *cb = c + (size_t)b * H;
    const float *cp = cPrev + (size_t)b * H;
    EACH(H, {
      vf ig = vsigmoid(L(p));
      vf fg = vsigmoid(L(p + H));
      vf gg = vtanh(L(p + 2 * H));
      vf og = vsigmoid(L(p + 3 * H));
      vf cv = fg * L(cp) + ig * gg;
      S(a, ig);
      S(a + H, fg);
      S(a + 2 * H, gg);
      S(a + 3 * H, og);
      S(cb, cv);
      S(hb, og * vtanh(cv));
    });
  }
}

void FN(rx_lstmBackward)(float *dPre, float *dcPrev, const float *dh, const float *dc, const float *act,
                         const float *cPrev, const float *c, int B, int H) {
  const vf one = splat(1.0f);
  for (int b = 0; b < B; b++) {
    const float *a = act + (size_t)b * 4 * H;
    float *d = dPre + (size_t)b * 4 * H;
    const size_t o = (size_t)b * H;
    EACH(H, {
      vf ig = L(a), fg = L(a + H), gg = L(a + 2 * H), og = L(a + 3 * H);
      vf tc = vtanh(L(c + o));
      vf dhv = L(dh + o);
      vf dct = L(dc + o) + dhv * og * (one - tc * tc);
      S(d, dct * gg * ig * (one - ig));
      S(d + H, dct * L(cPrev + o) * fg * (one - fg));
      S(d + 2 * H, dct * ig * (one - gg * gg));
      S(d + 3 * H, dhv * tc * og * (one - og));
      S(dcPrev + o, dct * fg);
    });
  }
}

void FN(rx_gruForward)(float *h, float *act, const float *xPre, const float *hPre, const float *hPrev, int B,
                       int H) {
  const vf one = splat(1.0f);
  for (int b = 0; b < B; b++) {
    const size_t g = (size_t)b * 3 * H, o = (size_t)b * H;
    const float *xp = xPre + g, *hp = hPre + g;
    float *a = act + g;
    EACH(H, {
      vf r = vsigmoid(L(xp) + L(hp));
      vf z = vsigmoid(L(xp + H) + L(hp + H));
      vf n = vtanh(L(xp + 2 * H) + r * L(hp + 2 * H));
      S(a, r);
      S(a + H, z);
      S(a + 2 * H, n);
      S(h + o, (one - z) * n + z * L(hPrev + o));
    });
  }
}

void FN(rx_gruBackward)(float *dxPre, float *dhPre, float *dhPrev, const float *dh, const float *act,
                        const float *hPre, const float *hPrev, int B, int H) {
  const vf one = splat(1.0f);
  for (int b = 0; b < B; b++) {
    const size_t g = (size_t)b * 3 * H, o = (size_t)b * H;
    const float *a = act + g, *hp = hPre + g;
    float *dx = dxPre + g, *dhp = dhPre + g;
    EACH(H, {
      vf r = L(a), z = L(a + H), n = L(a + 2 * H);
      vf dhv = L(dh + o);
      vf dn = dhv * (one - z) * (one - n * n);
      vf dz = dhv * (L(hPrev + o) - n) * z * (one - z);
      vf dr = dn * L(hp + 2 * H) * r * (one - r);
      S(dx, dr);
      S(dx + H, dz);
      S(dx + 2 * H, dn);
      S(dhp, dr);
      S(dhp + H, dz);
      S(dhp + 2 * H, dn * r);
      S(dhPrev + o, dhv * z);
    });
  }
}

void FN(rx_gruRzForward)(float *act, float *rh, const float *xPre, const float *hPreRz, const float *hPrev, int B,
                         int H) {
  for (int b = 0; b < B; b++) {
    const size_t g = (size_t)b * 3 * H, q = (size_t)b * 2 * H, o = (size_t)b * H;
    const float *xp = xPre + g, *hp = hPreRz + q;
    float *a = act + g;
    EACH(H, {
      vf r = vsigmoid(L(xp) + L(hp));
      S(a, r);
      S(a + H, vsigmoid(L(xp + H) + L(hp + H)));
      S(rh + o, r * L(hPrev + o));
    });
  }
}

void FN(rx_gruNForward)(float *h, float *act, const float *xPre, const float *hn, const float *hPrev, int B,
                        int H) {
  const vf one = splat(1.0f);
  for (int b = 0; b < B; b++) {
    const size_t g = (size_t)b * 3 * H, o = (size_t)b * H;
    const float *xp = xPre + g;
    float *a = act + g;
    EACH(H, {
      vf n = vtanh(L(xp + 2 * H) + L(hn + o));
      S(a + 2 * H, n);
      vf z = L(a + H);
      S(h + o, (one - z) * n + z * L(hPrev + o));
    });
  }
}

void FN(rx_gruNBackward)(float *dxPre, float *dhn, float *dhPrev, const float *dh, const float *act,
                         const float *hPrev, int B, int H) {
  const vf one = splat(1.0f);
  for (int b = 0; b < B; b++) {
    const size_t g = (size_t)b * 3 * H, o = (size_t)b * H;
    const float *a = act + g;
    float *dx = dxPre + g;
    EACH(H, {
      vf z = L(a + H), n = L(a + 2 * H);
      vf dhv = L(dh + o);
      vf dn = dhv * (one - z) * (one - n * n);
      S(dx + H, dhv * (L(hPrev + o) - n) * z * (one - z));
      S(dx + 2 * H, dn);
      S(dhn + o, dn);
      S(dhPrev + o, dhv * z);
    });
  }
}

void FN(rx_gruRzBackward)(float *dxPre, float *dhPreRz, float *dhPrev, const float *drh, const float *act,
                          const float *hPrev, int B, int H) {
  const vf one = splat(1.0f);
  for (int b = 0; b < B; b++) {
    const size_t g = (size_t)b * 3 * H, q = (size_t)b * 2 * H, o = (size_t)b * H;
    const float *a = act + g;
    float *dx = dxPre + g, *dq = dhPreRz + q;
    EACH(H, {
      vf r = L(a);
      vf d = L(drh + o);
      vf dr = d * L(hPrev + o) * r * (one - r);
      S(dx, dr);
      S(dq, dr);
      S(dq + H, L(dx + H));
      S(dhPrev + o, L(dhPrev + o) + d * r);
    });
  }
}

/**
 * Rows [r0, r1) of a fused step's pre-activations: out[r] = bias[r] + W_ih[r]·x + W_hh[r]·h, each
 * sum formed and added exactly as a bias copy and two accumulating gemv calls would.
 */
void FN(rx_step_rows)(float *out, const float *bias, const float *Wih, const float *x, int nX, const float *Whh,
                      const float *h, int H, int r0, int r1) {
  if (out != bias) memcpy(out + r0, bias + r0, (size_t)(r1 - r0) * 4);
  if (nX > 0) FN(rx_gemv_rows)(out, Wih, x, r0, r1, nX, 1);
  FN(rx_gemv_rows)(out, Whh, h, r0, r1, H, 1);
}

/**
 * Fused softmax cross-entropy, row by row, as softmaxCrossEntropy of reference/softmax.ts: the
 * row's max m, e = exp(x − m) in vectors (into dLogits), their sum s and the loss
 * lse − x[target] with lse = m + log s in float64, then dLogits = e / s − onehot(target). Returns
 * the float64 sum of the row losses. Targets are in [0, cols) (the addon checked them).
 */
double FN(rx_softmaxCE)(float *dL, float *lossRow, const float *x, const int *tg, int rows, int cols) {
  double total = 0;
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    float *dr = dL + (size_t)r * cols;
    float m = -__builtin_inff();
    for (int c = 0; c < cols; c++) m = xr[c] > m || xr[c] != xr[c] ? xr[c] : m;
    const vf mv = splat(m);
    EACH(cols, S(dr, vexp(L(xr) - mv)););
    double s = 0;
    for (int c = 0; c < cols; c++) s += dr[c];
    const double lse = (double)m + __builtin_log(s);
    const int t = tg[r];
    const double loss = lse - (double)xr[t];
    lossRow[r] = (float)loss;
    total += loss;
    const vf inv = splat((float)(1.0 / s));
    EACH(cols, S(dr, L(dr) * inv););
    dr[t] -= 1.0f;
  }
  return total;
}

/**
 * One Adam/AdamW update over n parameters, the arithmetic of adamUpdate in src/optimizer.ts
 * operation for operation in float64 (no fused multiply-add: contraction is off here), m and v
 * rounded to float32 when stored and read back as stored, so the result has the twin's bits.
 * k = {stepSize, bc2Sqrt, beta1, beta2, eps, decay, l2}.
 */
__attribute__((optimize("fp-contract=off"))) void FN(rx_adam)(float *P, const float *G, float *M, float *V,
                                                              size_t n, const double *k) {
  const double stepSize = k[0], bc2Sqrt = k[1], beta1 = k[2], beta2 = k[3], eps = k[4], decay = k[5], l2 = k[6];
  const double omb1 = 1 - beta1, omb2 = 1 - beta2;
  for (size_t i = 0; i < n; i++) {
    const double p = (double)P[i] * decay;
    const double g = (double)G[i] + l2 * p;
    const float mf = (float)(beta1 * (double)M[i] + omb1 * g);
    const float vf = (float)(beta2 * (double)V[i] + omb2 * g * g);
    M[i] = mf;
    V[i] = vf;
    P[i] = (float)(p - (stepSize * (double)mf) / (__builtin_sqrt((double)vf) / bc2Sqrt + eps));
  }
}

// ---- lstmSequence, gruSequence: a cell's forward over a window without a tape ------------------

/** Vectors of batch rows per register tile: up to 4 gates × LS_NV accumulators (16 of AVX-512's
 * 32 registers; 8 of the 16 elsewhere). */
#ifndef LS_NV
#define LS_NV (VW == 16 ? 4 : 2)
#endif
/** Hidden units per task. */
#define LS_UNITS 16

/** Weight rows per register tile at most: a GRU tile's 2 units × 3 gates (an LSTM's 1 × 4). */
#define LS_ROWS 6

/**
 * v[r][q] += Σ_k Wr[k]·A[k·BP + q·VW …] for the tile's rows r = u·ng + g (gate g of its u-th
 * unit, Wr = W + g·gs + u·us) and k in [0, K): each KC-block's sum formed from zero by one
 * multiply-add per k, then added to v once. That is the order in which gemmABt's packed tiles
 * (bt_tile) form b + X·W_ihᵀ and then add H·W_hhᵀ, so for more than DOT_M rows the
 * pre-activations, and everything after them, have the bits of the tape's forward.
 */
AI void ls_part(vf v[LS_ROWS][LS_NV], const float *A, int BP, const float *W, size_t gs, size_t us, int K,
                const int ng, const int nu, const int nv) {
  const int nr = ng * nu;
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int k1 = k0 + KC < K ? k0 + KC : K;
    vf a[LS_ROWS][LS_NV];
#pragma GCC unroll 6
    for (int r = 0; r < LS_ROWS; r++)
#pragma GCC unroll 4
      for (int q = 0; q < LS_NV; q++) a[r][q] = splat(0.0f);
    for (int k = k0; k < k1; k++) {
      const float *ap = A + (size_t)k * BP;
      vf x[LS_NV];
#pragma GCC unroll 4
      for (int q = 0; q < LS_NV; q++)
        if (q < nv) x[q] = ld(ap + q * VW);
      // One weight row at a time: its broadcast is the only register beside the accumulators and x.
#pragma GCC unroll 6
      for (int r = 0; r < LS_ROWS; r++) {
        if (r < nr) {
          const vf w = ldsplat(W + (size_t)(r % ng) * gs + (size_t)(r / ng) * us + k);
#pragma GCC unroll 4
          for (int q = 0; q < LS_NV; q++)
            if (q < nv) a[r][q] += w * x[q];
        }
      }
    }
#pragma GCC unroll 6
    for (int r = 0; r < LS_ROWS; r++)
#pragma GCC unroll 4
      for (int q = 0; q < LS_NV; q++)
        if (r < nr && q < nv) v[r][q] += a[r][q];
  }
}

/** Unit j for nv vectors of batch rows from vector q0: its four pre-activations, then the gates
 * exactly as rx_lstmForward computes them; c in place, h_t into hN. */
AI void ls_tile(const rx_seq *s, int j, int q0, const int nv) {
  const int H = s->H, BP = s->BP, off = q0 * VW;
  vf v[LS_ROWS][LS_NV];
#pragma GCC unroll 4
  for (int g = 0; g < 4; g++) {
    const vf bg = splat(s->b[(size_t)g * H + j]);
#pragma GCC unroll 4
    for (int q = 0; q < LS_NV; q++) v[g][q] = bg;
  }
  const int nX = s->nX;
  ls_part(v, s->xT + off, BP, s->Wih + (size_t)j * nX, (size_t)H * nX, nX, nX, 4, 1, nv);
  ls_part(v, s->hT + off, BP, s->Whh + (size_t)j * H, (size_t)H * H, H, H, 4, 1, nv);
  float *cp = s->cT + (size_t)j * BP + off, *hp = s->hN + (size_t)j * BP + off;
#pragma GCC unroll 4
  for (int q = 0; q < LS_NV; q++) {
    if (q < nv) {
      vf ig = vsigmoid(v[0][q]);
      vf fg = vsigmoid(v[1][q]);
      vf gg = vtanh(v[2][q]);
      vf og = vsigmoid(v[3][q]);
      vf cv = fg * ld(cp + q * VW) + ig * gg;
      st(cp + q * VW, cv);
      st(hp + q * VW, og * vtanh(cv));
    }
  }
}

/** The reset-after GRU's units j … j + nu − 1 (nu ≤ 2: two units' 3 gates × LS_NV vectors fill the
 * registers as an LSTM unit's 4 do): b_ih + W_ih·x and [0 | 0 | b_hn] + W_hh·h as two sums per
 * gate, then the gates exactly as rx_gruForward computes them; h_t into hN. */
AI void gs_tile(const rx_seq *s, int j, const int nu, int q0, const int nv) {
  const int H = s->H, BP = s->BP, off = q0 * VW, nX = s->nX;
  vf vx[LS_ROWS][LS_NV], vh[LS_ROWS][LS_NV];
#pragma GCC unroll 2
  for (int u = 0; u < 2; u++) {
#pragma GCC unroll 3
    for (int g = 0; g < 3; g++) {
      if (u < nu) {
        const vf bx = splat(s->b[(size_t)g * H + j + u]), bh = splat(g == 2 ? s->bHn[j + u] : 0.0f);
#pragma GCC unroll 4
        for (int q = 0; q < LS_NV; q++) {
          vx[u * 3 + g][q] = bx;
          vh[u * 3 + g][q] = bh;
        }
      }
    }
  }
  ls_part(vx, s->xT + off, BP, s->Wih + (size_t)j * nX, (size_t)H * nX, nX, nX, 3, nu, nv);
  ls_part(vh, s->hT + off, BP, s->Whh + (size_t)j * H, (size_t)H * H, H, H, 3, nu, nv);
  const vf one = splat(1.0f);
#pragma GCC unroll 2
  for (int u = 0; u < 2; u++) {
    if (u < nu) {
      const float *hp = s->hT + (size_t)(j + u) * BP + off;
      float *hn = s->hN + (size_t)(j + u) * BP + off;
#pragma GCC unroll 4
      for (int q = 0; q < LS_NV; q++) {
        if (q < nv) {
          vf r = vsigmoid(vx[u * 3][q] + vh[u * 3][q]);
          vf z = vsigmoid(vx[u * 3 + 1][q] + vh[u * 3 + 1][q]);
          vf n = vtanh(vx[u * 3 + 2][q] + r * vh[u * 3 + 2][q]);
          st(hn + q * VW, (one - z) * n + z * ld(hp + q * VW));
        }
      }
    }
  }
}

int FN(rx_seq_tasks)(int H, int BP) {
  const int nvec = BP / VW;
  return (H + LS_UNITS - 1) / LS_UNITS * ((nvec + LS_NV - 1) / LS_NV);
}

#if VW == 16 && defined(RX_SHUFFLEVECTOR)
#define LS_IDS(...) __VA_ARGS__
/** One round of a 16 × 16 transpose in r[]: each pair (i, i + S) swaps its off-diagonal S-lane
 * halves; LO and HI are the two shuffles' lane lists, in parentheses. */
#define LS_ROUND(S, LO, HI)                                  \
  for (int i = 0; i < 16; i++)                               \
    if (!(i & (S))) {                                        \
      const vf p = r[i], q = r[i + (S)];                     \
      r[i] = __builtin_shufflevector(p, q, LS_IDS LO);       \
      r[i + (S)] = __builtin_shufflevector(p, q, LS_IDS HI); \
    }
#endif

/** Rows [b0, b1) of out, units [u0, u1): h_t from hN's transposed layout back to rows. */
static void ls_rows(const rx_seq *s, int u0, int u1, int b0, int b1) {
  const int H = s->H, BP = s->BP;
  int b = b0;
#if VW == 16 && defined(RX_SHUFFLEVECTOR)
  // Whole 16 × 16 blocks in registers: four rounds of exchanging half-blocks (8, 4, 2, 1 lanes)
  // between vector pairs turn 16 units' lanes of 16 rows into 16 rows' lanes of those units.
  if (u1 - u0 == 16) {
    for (; b + 16 <= b1; b += 16) {
      vf r[16];
      for (int i = 0; i < 16; i++) r[i] = ld(s->hN + (size_t)(u0 + i) * BP + b);
      LS_ROUND(8, (0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
               (8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
      LS_ROUND(4, (0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27),
               (4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31));
      LS_ROUND(2, (0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),
               (2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31));
      LS_ROUND(1, (0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30),
               (1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31));
      for (int i = 0; i < 16; i++) st(s->out + (size_t)(b + i) * H + u0, r[i]);
    }
  }
#endif
  for (; b < b1; b++) {
    float *o = s->out + (size_t)b * H;
    const float *hb = s->hN + b;
    for (int j = u0; j < u1; j++) o[j] = hb[(size_t)j * BP];
  }
}

/** Task t of a step: LS_UNITS units × one group of LS_NV vectors of rows (an LSTM's tiles, or a
 * GRU's); then the group's real rows of those units into out (h_t back to row-major). */
AI void seq_task(const rx_seq *s, int t, const int gru) {
  const int H = s->H, BP = s->BP, nvec = BP / VW;
  const int groups = (nvec + LS_NV - 1) / LS_NV;
  const int u0 = (t / groups) * LS_UNITS, q0 = (t % groups) * LS_NV;
  const int u1 = u0 + LS_UNITS < H ? u0 + LS_UNITS : H;
  const int nv = nvec - q0 < LS_NV ? nvec - q0 : LS_NV;
#define SEQ_TILE(n)                   \
  if (!gru)                           \
    ls_tile(s, j, q0, (n));           \
  else if (j + 1 < u1)                \
    gs_tile(s, j, 2, q0, (n));        \
  else                                \
    gs_tile(s, j, 1, q0, (n));        \
  break;
  for (int j = u0; j < u1; j += gru ? 2 : 1) {
    switch (nv) {
#if LS_NV > 2
      case 4:
        SEQ_TILE(4)
      case 3:
        SEQ_TILE(3)
#endif
      case 2:
        SEQ_TILE(2)
      default:
        SEQ_TILE(1)
    }
  }
#undef SEQ_TILE
  const int b0 = q0 * VW, b1 = b0 + nv * VW < s->B ? b0 + nv * VW : s->B;
  ls_rows(s, u0, u1, b0, b1);
}

void FN(rx_lstmSeq_task)(const rx_seq *s, int t) { seq_task(s, t, 0); }
void FN(rx_gruSeq_task)(const rx_seq *s, int t) { seq_task(s, t, 1); }

const rx_isa FN(rx_isa) = {
    .name = ISA_NAME,
    .gemv_rows = FN(rx_gemv_rows),
    .gemvT = FN(rx_gemvT),
    .ger = FN(rx_ger),
    .gemmABt_tasks = FN(rx_gemmABt_tasks),
    .gemmABt_task = FN(rx_gemmABt_task),
    .gemmABt_packSize = FN(rx_gemmABt_packSize),
    .gemmABt_pack = FN(rx_gemmABt_pack),
    .gemmBc_tasks = FN(rx_gemmBc_tasks),
    .gemmBc_task = FN(rx_gemmBc_task),
    .rnnForward = FN(rx_rnnForward),
    .rnnBackward = FN(rx_rnnBackward),
    .lstmForward = FN(rx_lstmForward),
    .lstmBackward = FN(rx_lstmBackward),
    .gruForward = FN(rx_gruForward),
    .gruBackward = FN(rx_gruBackward),
    .gruRzForward = FN(rx_gruRzForward),
    .gruNForward = FN(rx_gruNForward),
    .gruNBackward = FN(rx_gruNBackward),
    .gruRzBackward = FN(rx_gruRzBackward),
    .step_rows = FN(rx_step_rows),
    .softmaxCE = FN(rx_softmaxCE),
    .adam = FN(rx_adam),
    .seq_tasks = FN(rx_seq_tasks),
    .lstmSeq_task = FN(rx_lstmSeq_task),
    .gruSeq_task = FN(rx_gruSeq_task),
};
