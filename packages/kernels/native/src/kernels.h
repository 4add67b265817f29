// The kernel table one instruction set provides (isa-*.c) and the addon dispatches to. Pointers are
// float32 arrays of the sizes the addon has checked; dims are element counts.
#ifndef RX_KERNELS_H
#define RX_KERNELS_H
#include <stddef.h>

/** One GEMM call, shared by the threads that run its tasks. */
typedef struct {
  float *C;
  const float *A;
  const float *B;
  int M, N, K;
  int acc;    /* add into C instead of overwriting it */
  int transA; /* gemmAtB: A is [K × M] */
  float *ws;  /* gemmABt: packed Aᵀ (rx_isa.gemmABt_packSize floats) */
} rx_gemm_args;

/**
 * One step of lstmSequence or gruSequence (a cell's forward over a window without a tape), shared
 * by the threads that run its tasks. The batch runs across vector lanes: x_t, h and c are held
 * transposed ([n × BP], BP = B rounded up to 16, padding lanes zero at the start), so h_t written
 * by one step is the next step's operand as it stands.
 */
typedef struct {
  const float *Wih, *Whh, *b; /* [G·H × nX], [G·H × H], [G·H] (LSTM gates i, f, g, o; GRU r, z, n) */
  const float *bHn;           /* GRU: b_hn [H], inside r ⊙ (W_hn·h + b_hn); LSTM: unused */
  const float *xT;            /* x_t transposed [nX × BP] */
  const float *hT;            /* h_{t-1} transposed [H × BP] */
  float *hN;                  /* h_t transposed [H × BP] (written) */
  float *cT;                  /* LSTM: c transposed [H × BP], c_{t-1} in, c_t out; GRU: unused */
  float *out;                 /* the step's output rows [B × H] */
  int nX, H, B, BP;
} rx_seq;

typedef struct {
  const char *name;
  void (*gemv_rows)(float *y, const float *W, const float *x, int r0, int r1, int cols, int acc);
  void (*gemvT)(float *y, const float *W, const float *x, int rows, int cols, int acc);
  void (*ger)(float *A, const float *x, const float *y, int rows, int cols, float alpha);
  int (*gemmABt_tasks)(int M, int N);
  void (*gemmABt_task)(const rx_gemm_args *g, int t);
  size_t (*gemmABt_packSize)(int M, int K);
  void (*gemmABt_pack)(const rx_gemm_args *g);
  int (*gemmBc_tasks)(int M, int N);
  void (*gemmBc_task)(const rx_gemm_args *g, int t);
  void (*rnnForward)(float *h, const float *pre, int B, int H);
  void (*rnnBackward)(float *dPre, const float *dh, const float *h, int B, int H);
  void (*lstmForward)(float *h, float *c, float *act, const float *pre, const float *cPrev, int B, int H);
  void (*lstmBackward)(float *dPre, float *dcPrev, const float *dh, const float *dc, const float *act,
                       const float *cPrev, const float *c, int B, int H);
  void (*gruForward)(float *h, float *act, const float *xPre, const float *hPre, const float *hPrev, int B, int H);
  void (*gruBackward)(float *dxPre, float *dhPre, float *dhPrev, const float *dh, const float *act,
                      const float *hPre, const float *hPrev, int B, int H);
  void (*gruRzForward)(float *act, float *rh, const float *xPre, const float *hPreRz, const float *hPrev, int B,
                       int H);
  void (*gruNForward)(float *h, float *act, const float *xPre, const float *hn, const float *hPrev, int B, int H);
  void (*gruNBackward)(float *dxPre, float *dhn, float *dhPrev, const float *dh, const float *act,
                       const float *hPrev, int B, int H);
  void (*gruRzBackward)(float *dxPre, float *dhPreRz, float *dhPrev, const float *drh, const float *act,
                        const float *hPrev, int B, int H);
  void (*step_rows)(float *out, const float *bias, const float *Wih, const float *x, int nX, const float *Whh,
                    const float *h, int H, int r0, int r1);
  double (*softmaxCE)(float *dLogits, float *lossPerRow, const float *logits, const int *targets, int rows,
                      int cols);
  /** k: stepSize, bc2Sqrt, beta1, beta2, eps, decay, l2 (see rx_adam in kernels-impl.h). */
  void (*adam)(float *params, const float *grads, float *m, float *v, size_t n, const double *k);
  /** Tasks of one lstmSequence/gruSequence step (units × groups of batch rows); any thread runs any. */
  int (*seq_tasks)(int H, int BP);
  void (*lstmSeq_task)(const rx_seq *s, int t);
  void (*gruSeq_task)(const rx_seq *s, int t);
} rx_isa;

extern const rx_isa rx_isa_portable;
#if defined(__x86_64__)
extern const rx_isa rx_isa_avx2;
extern const rx_isa rx_isa_avx512;
#endif

#endif
