// The Node-API addon: argument checks (lengths again in C, so a bad call can never write out of
// bounds), the instruction set chosen once at load (AVX-512, AVX2+FMA or portable, overridable for
// tests), and the process-wide thread budget that batched products and shared steps draw helper
// threads from. Arrays are the caller's Float32Arrays, read and written in place.
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#include "kernels.h"

// ---- instruction set ----------------------------------------------------------------------------

static const rx_isa *isa = &rx_isa_portable;
static char isa_reason[160] = "";

#if defined(__x86_64__)
static unsigned long long xcr0(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
  unsigned lo, hi;
  __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}
static int has_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && (xcr0() & 0x6) == 0x6;
}
static int has_avx512(void) {
  __builtin_cpu_init();
  return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && (xcr0() & 0xE6) == 0xE6;
}
#endif

/** The best set this CPU and OS run, or a lower one named by `want` (tests, diagnostics). */
static int choose_isa(const char *want) {
  const rx_isa *best = &rx_isa_portable;
#if defined(__x86_64__)
  if (has_avx512())
    best = &rx_isa_avx512;
  else if (has_avx2())
    best = &rx_isa_avx2;
#endif
  if (want == NULL || want[0] == 0) {
    isa = best;
    snprintf(isa_reason, sizeof isa_reason, "best this CPU supports");
    return 1;
  }
  const rx_isa *pick = NULL;
  if (strcmp(want, "portable") == 0) pick = &rx_isa_portable;
#if defined(__x86_64__)
  if (strcmp(want, "avx2") == 0 && (best == &rx_isa_avx2 || best == &rx_isa_avx512)) pick = &rx_isa_avx2;
  if (strcmp(want, "avx512") == 0 && best == &rx_isa_avx512) pick = &rx_isa_avx512;
#endif
  if (pick == NULL) return 0;
  isa = pick;
  snprintf(isa_reason, sizeof isa_reason, "asked for %s", want);
  return 1;
}

// ---- thread budget and pool ---------------------------------------------------------------------
// A process-wide budget of compute threads (default: the CPUs this process may run on, at most 8;
// RXRNN_THREADS or setThreads change it). Every JS thread inside a large kernel counts as one; a
// helper joins a job only while the count is below the budget and stops claiming tasks as soon as
// another caller pushes it over, so worker_threads that each call kernels never oversubscribe the
// cores for longer than one task. Tasks are claimed through one atomic counter; which thread runs
// a task never changes what it computes.

#define MAX_HELPERS 63
typedef void (*task_fn)(void *ctx, int t);

static atomic_int running;        /* threads computing inside pooled kernels */
static atomic_int budget = 1;     /* compute threads allowed */
static int cpus = 1;
static atomic_flag pool_busy = ATOMIC_FLAG_INIT;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static int helpers_started;
static atomic_int job_gen;
static atomic_int sleepers;
static task_fn job_fn;
static void *job_ctx;
static int job_tasks;
static atomic_int job_next, job_done, job_joined;
static atomic_long stat_jobs, stat_shared, stat_helper_tasks;
static atomic_int step_min_weights; /* batch-1 steps share rows from this many weights; 0: never */

static void run_tasks(int helper) {
  for (;;) {
    if (helper && atomic_load_explicit(&running, memory_order_relaxed) > atomic_load(&budget)) return;
    int t = atomic_fetch_add(&job_next, 1);
    if (t >= job_tasks) return;
    job_fn(job_ctx, t);
    if (helper) atomic_fetch_add_explicit(&stat_helper_tasks, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&job_done, 1, memory_order_release);
  }
}

static void *helper_main(void *arg) {
  (void)arg;
  int seen = atomic_load(&job_gen);
  for (;;) {
    int spins = 0;
    int g;
    while ((g = atomic_load_explicit(&job_gen, memory_order_acquire)) == seen && spins < 20000) {
      CPU_RELAX();
      spins++;
    }
    if (g == seen) {
      pthread_mutex_lock(&pool_mu);
      atomic_fetch_add(&sleepers, 1);
      while ((g = atomic_load(&job_gen)) == seen) pthread_cond_wait(&pool_cv, &pool_mu);
      atomic_fetch_sub(&sleepers, 1);
      pthread_mutex_unlock(&pool_mu);
    }
    seen = g;
    if (!(g & 1)) continue; /* a job just closed: nothing to join */
    // Join only while the budget has room, and only the job this generation announced.
    int r = atomic_load(&running);
    int joined = 0;
    while (r < atomic_load(&budget)) {
      if (atomic_compare_exchange_weak(&running, &r, r + 1)) {
        joined = 1;
        break;
      }
    }
    if (!joined) continue;
    // Registered first, then the generation checked (both sequentially consistent, as the caller
    // closes the job and then reads job_joined): either the caller waits for this helper, or this
    // helper sees the job closed and touches nothing of it or of the next one.
    atomic_fetch_add(&job_joined, 1);
    if (atomic_load(&job_gen) == seen) run_tasks(1);
    atomic_fetch_sub(&job_joined, 1);
    atomic_fetch_sub(&running, 1);
  }
  return NULL;
}

static void start_helpers(void) {
  if (helpers_started) return;
  int n = cpus - 1;
  if (n > MAX_HELPERS) n = MAX_HELPERS;
  for (int i = 0; i < n; i++) {
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, helper_main, NULL) == 0) helpers_started++;
    pthread_attr_destroy(&at);
  }
  if (helpers_started == 0) helpers_started = -1;
}

/**
 * Runs tasks [0, n) of fn, on helper threads too when `share` and the budget and pool allow.
 * Returns when every task has finished.
 */
static void parallel(task_fn fn, void *ctx, int n, int share) {
  atomic_fetch_add(&running, 1);
  atomic_fetch_add_explicit(&stat_jobs, 1, memory_order_relaxed);
  int pooled = share && n > 1 && atomic_load(&budget) > 1 && atomic_load(&running) < atomic_load(&budget) &&
               !atomic_flag_test_and_set(&pool_busy);
  if (pooled) {
    pthread_mutex_lock(&pool_mu);
    start_helpers();
    pthread_mutex_unlock(&pool_mu);
    if (helpers_started <= 0) {
      atomic_flag_clear(&pool_busy);
      pooled = 0;
    }
  }
  if (!pooled) {
    for (int t = 0; t < n; t++) fn(ctx, t);
    atomic_fetch_sub(&running, 1);
    return;
  }
  atomic_fetch_add_explicit(&stat_shared, 1, memory_order_relaxed);
  job_fn = fn;
  job_ctx = ctx;
  job_tasks = n;
  atomic_store(&job_next, 0);
  atomic_store(&job_done, 0);
  atomic_fetch_add(&job_gen, 1); /* odd: the job is open */
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&pool_mu);
    pthread_cond_broadcast(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
  }
  run_tasks(0);
  while (atomic_load_explicit(&job_done, memory_order_acquire) < n) CPU_RELAX();
  // Closed before job_joined is read: a helper that registers from now on sees another
  // generation and leaves, so none can claim a task of the next job or count it done here (the
  // next job's reset of job_done would lose that count and its caller would wait forever).
  atomic_fetch_add(&job_gen, 1); /* even: closed */
  while (atomic_load(&job_joined) > 0) CPU_RELAX();
  atomic_flag_clear(&pool_busy);
  atomic_fetch_sub(&running, 1);
}

// ---- argument helpers ---------------------------------------------------------------------------

typedef struct {
  float *p;
  size_t n;
} f32;

#define MAXARGS 12

static int get_args(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  size_t argc = MAXARGS;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < want) {
    napi_throw_type_error(env, NULL, "rxrnn native: too few arguments");
    return 0;
  }
  return 1;
}

static int get_f32(napi_env env, const char *kernel, const char *name, napi_value v, f32 *out) {
  napi_typedarray_type type;
  size_t len = 0;
  void *data = NULL;
  int is_ta = 0;
  bool b = false;
  if (napi_is_typedarray(env, v, &b) == napi_ok && b) is_ta = 1;
  if (!is_ta || napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: %s must be a Float32Array", kernel, name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  if (len > 0 && data == NULL) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: %s is detached", kernel, name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  out->p = (float *)data;
  out->n = len;
  return 1;
}

static int get_int(napi_env env, const char *kernel, const char *name, napi_value v, int *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 2147483647.0) || d != (double)(int)d) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: %s must be a non-negative integer", kernel, name);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *out = (int)d;
  return 1;
}

static int get_num(napi_env env, napi_value v, double *out) { return napi_get_value_double(env, v, out) == napi_ok; }

/** Length check; the TypeScript side checked already, so this only fires on a bypass. */
static int need(napi_env env, const char *kernel, const char *name, const f32 *a, double expected) {
  if ((double)a->n == expected) return 1;
  char msg[200];
  snprintf(msg, sizeof msg, "%s: %s length %zu, expected %.0f", kernel, name, a->n, expected);
  napi_throw_range_error(env, NULL, msg);
  return 0;
}

#define ARGS(n)                                   \
  napi_value argv[MAXARGS];                       \
  if (!get_args(env, info, argv, (n))) return NULL
#define ARR(i, var) \
  f32 var;          \
  if (!get_f32(env, K, #var, argv[i], &var)) return NULL
#define INT(i, var) \
  int var;          \
  if (!get_int(env, K, #var, argv[i], &var)) return NULL
#define NEED(var, expr) \
  if (!need(env, K, #var, &var, (double)(expr))) return NULL

// ---- GEMV family --------------------------------------------------------------------------------

static napi_value js_gemv(napi_env env, napi_callback_info info) {
  static const char *K = "gemv";
  ARGS(6);
  ARR(0, y);
  ARR(1, W);
  ARR(2, x);
  INT(3, rows);
  INT(4, cols);
  INT(5, acc);
  NEED(y, rows);
  NEED(W, (double)rows * cols);
  NEED(x, cols);
  isa->gemv_rows(y.p, W.p, x.p, 0, rows, cols, acc);
  return NULL;
}

static napi_value js_gemvT(napi_env env, napi_callback_info info) {
  static const char *K = "gemvT";
  ARGS(6);
  ARR(0, y);
  ARR(1, W);
  ARR(2, x);
  INT(3, rows);
  INT(4, cols);
  INT(5, acc);
  NEED(y, cols);
  NEED(W, (double)rows * cols);
  NEED(x, rows);
  isa->gemvT(y.p, W.p, x.p, rows, cols, acc);
  return NULL;
}

static napi_value js_ger(napi_env env, napi_callback_info info) {
  static const char *K = "ger";
  ARGS(6);
  ARR(0, A);
  ARR(1, x);
  ARR(2, y);
  INT(3, rows);
  INT(4, cols);
  double alpha;
  if (!get_num(env, argv[5], &alpha)) return NULL;
  NEED(A, (double)rows * cols);
  NEED(x, rows);
  NEED(y, cols);
  isa->ger(A.p, x.p, y.p, rows, cols, (float)alpha);
  return NULL;
}

// ---- GEMM ---------------------------------------------------------------------------------------

/** Products below this many multiply-adds run on the calling thread alone (a wake-up costs more). */
#define GEMM_SHARE_MACS (1 << 20)

/**
 * A calling thread's scratch buffer, grown to the largest size seen (64-byte aligned; NULL when
 * out of memory, the old buffer kept). Helpers only read it during the call; each JS thread has
 * its own of each kind.
 */
typedef struct {
  float *p;
  size_t cap;
} scratch;

static float *grow(scratch *s, size_t floats) {
  if (floats <= s->cap) return s->p;
  size_t bytes = (floats * 4 + 63) & ~(size_t)63;
  float *p = aligned_alloc(64, bytes);
  if (p == NULL) return NULL;
  free(s->p);
  s->p = p;
  s->cap = bytes / 4;
  return p;
}

/** gemmABt's packed Aᵀ. */
static __thread scratch pack_buf;

static void abt_task(void *c, int t) { isa->gemmABt_task((const rx_gemm_args *)c, t); }
static void bc_task(void *c, int t) { isa->gemmBc_task((const rx_gemm_args *)c, t); }

static napi_value gemm(napi_env env, napi_callback_info info, const char *K, int kind) {
  ARGS(7);
  ARR(0, C);
  ARR(1, A);
  ARR(2, Bm);
  INT(3, M);
  INT(4, N);
  INT(5, Kd);
  INT(6, acc);
  NEED(C, (double)M * N);
  NEED(A, (double)M * Kd);
  NEED(Bm, (double)N * Kd);
  if (M == 0 || N == 0) return NULL;
  rx_gemm_args g = {C.p, A.p, Bm.p, M, N, Kd, acc, kind == 1, NULL};
  int share = (double)M * N * Kd >= GEMM_SHARE_MACS;
  if (kind == 0) {
    const size_t packed = isa->gemmABt_packSize(M, Kd);
    g.ws = packed > 0 ? grow(&pack_buf, packed) : NULL;
    if (packed > 0 && g.ws == NULL) {
      napi_throw_range_error(env, NULL, "gemmABt: out of memory for the packed operand");
      return NULL;
    }
    isa->gemmABt_pack(&g);
    parallel(abt_task, &g, isa->gemmABt_tasks(M, N), share);
  } else
    parallel(bc_task, &g, isa->gemmBc_tasks(M, N), share);
  return NULL;
}

static napi_value js_gemmABt(napi_env env, napi_callback_info info) { return gemm(env, info, "gemmABt", 0); }
static napi_value js_gemmAtB(napi_env env, napi_callback_info info) { return gemm(env, info, "gemmAtB", 1); }
static napi_value js_gemmAB(napi_env env, napi_callback_info info) { return gemm(env, info, "gemmAB", 2); }

// ---- gate kernels -------------------------------------------------------------------------------

/*
 * Gate kernels work row by row (each batch row on its own), so a large batch is cut into blocks of
 * rows run as pool tasks: the same arithmetic per element whichever thread does it. Each array
 * advances per row by its checked length ÷ B (H, 2H, 3H or 4H).
 */
#define GATE_MAXP 7
/** Rows·H below this run on the calling thread alone (the pool's hand-off costs more). */
#define GATE_SHARE_UNITS 8192
/** Units (rows·H) per task when shared. */
#define GATE_TASK_UNITS 4096

typedef void (*gate_fn)(float *const *p, int B, int H);

typedef struct {
  gate_fn fn;
  float *p[GATE_MAXP];
  size_t row[GATE_MAXP]; /* floats per batch row */
  int np, B, H, rows;
} gate_ctx;

static void gate_task(void *c, int t) {
  const gate_ctx *g = c;
  const int b0 = t * g->rows;
  const int nb = g->B - b0 < g->rows ? g->B - b0 : g->rows;
  float *q[GATE_MAXP];
  for (int i = 0; i < g->np; i++) q[i] = g->p[i] + (size_t)b0 * g->row[i];
  g->fn(q, nb, g->H);
}

/** Runs fn over the B rows of arrays a (lengths already checked), in row blocks on the pool when large. */
static void by_rows(gate_fn fn, int np, const f32 *a, int B, int H) {
  gate_ctx g = {fn, {0}, {0}, np, B, H, B};
  for (int i = 0; i < np; i++) {
    g.p[i] = a[i].p;
    g.row[i] = B > 0 ? a[i].n / (size_t)B : 0;
  }
  if ((double)B * H < GATE_SHARE_UNITS || B < 2) {
    fn(g.p, B, H);
    return;
  }
  g.rows = GATE_TASK_UNITS / H > 0 ? GATE_TASK_UNITS / H : 1;
  parallel(gate_task, &g, (B + g.rows - 1) / g.rows, 1);
}

#define ROWS(fn, ...)                                             \
  do {                                                            \
    const f32 a_[] = {__VA_ARGS__};                               \
    by_rows(fn, (int)(sizeof a_ / sizeof a_[0]), a_, B, H);       \
  } while (0)

static void g_rnnForward(float *const *q, int B, int H) { isa->rnnForward(q[0], q[1], B, H); }
static void g_rnnBackward(float *const *q, int B, int H) { isa->rnnBackward(q[0], q[1], q[2], B, H); }
static void g_lstmForward(float *const *q, int B, int H) { isa->lstmForward(q[0], q[1], q[2], q[3], q[4], B, H); }
static void g_lstmBackward(float *const *q, int B, int H) {
  isa->lstmBackward(q[0], q[1], q[2], q[3], q[4], q[5], q[6], B, H);
}
static void g_gruForward(float *const *q, int B, int H) { isa->gruForward(q[0], q[1], q[2], q[3], q[4], B, H); }
static void g_gruBackward(float *const *q, int B, int H) {
  isa->gruBackward(q[0], q[1], q[2], q[3], q[4], q[5], q[6], B, H);
}
static void g_gruRzForward(float *const *q, int B, int H) { isa->gruRzForward(q[0], q[1], q[2], q[3], q[4], B, H); }
static void g_gruNForward(float *const *q, int B, int H) { isa->gruNForward(q[0], q[1], q[2], q[3], q[4], B, H); }
static void g_gruNBackward(float *const *q, int B, int H) {
  isa->gruNBackward(q[0], q[1], q[2], q[3], q[4], q[5], B, H);
}
static void g_gruRzBackward(float *const *q, int B, int H) {
  isa->gruRzBackward(q[0], q[1], q[2], q[3], q[4], q[5], B, H);
}

#define BH(i)      \
  INT(i, B);       \
  INT(i + 1, H);   \
  double bh = (double)B * H

static napi_value js_rnnForward(napi_env env, napi_callback_info info) {
  static const char *K = "rnnForward";
  ARGS(4);
  ARR(0, h);
  ARR(1, pre);
  BH(2);
  NEED(h, bh);
  NEED(pre, bh);
  ROWS(g_rnnForward, h, pre);
  return NULL;
}

static napi_value js_rnnBackward(napi_env env, napi_callback_info info) {
  static const char *K = "rnnBackward";
  ARGS(5);
  ARR(0, dPre);
  ARR(1, dh);
  ARR(2, h);
  BH(3);
  NEED(dPre, bh);
  NEED(dh, bh);
  NEED(h, bh);
  ROWS(g_rnnBackward, dPre, dh, h);
  return NULL;
}

static napi_value js_lstmForward(napi_env env, napi_callback_info info) {
  static const char *K = "lstmForward";
  ARGS(7);
  ARR(0, h);
  ARR(1, c);
  ARR(2, act);
  ARR(3, pre);
  ARR(4, cPrev);
  BH(5);
  NEED(h, bh);
  NEED(c, bh);
  NEED(act, 4 * bh);
  NEED(pre, 4 * bh);
  NEED(cPrev, bh);
  ROWS(g_lstmForward, h, c, act, pre, cPrev);
  return NULL;
}

static napi_value js_lstmBackward(napi_env env, napi_callback_info info) {
  static const char *K = "lstmBackward";
  ARGS(9);
  ARR(0, dPre);
  ARR(1, dcPrev);
  ARR(2, dh);
  ARR(3, dc);
  ARR(4, act);
  ARR(5, cPrev);
  ARR(6, c);
  BH(7);
  NEED(dPre, 4 * bh);
  NEED(dcPrev, bh);
  NEED(dh, bh);
  NEED(dc, bh);
  NEED(act, 4 * bh);
  NEED(cPrev, bh);
  NEED(c, bh);
  ROWS(g_lstmBackward, dPre, dcPrev, dh, dc, act, cPrev, c);
  return NULL;
}

static napi_value js_gruForward(napi_env env, napi_callback_info info) {
  static const char *K = "gruForward";
  ARGS(7);
  ARR(0, h);
  ARR(1, act);
  ARR(2, xPre);
  ARR(3, hPre);
  ARR(4, hPrev);
  BH(5);
  NEED(h, bh);
  NEED(act, 3 * bh);
  NEED(xPre, 3 * bh);
  NEED(hPre, 3 * bh);
  NEED(hPrev, bh);
  ROWS(g_gruForward, h, act, xPre, hPre, hPrev);
  return NULL;
}

static napi_value js_gruBackward(napi_env env, napi_callback_info info) {
  static const char *K = "gruBackward";
  ARGS(9);
  ARR(0, dxPre);
  ARR(1, dhPre);
  ARR(2, dhPrev);
  ARR(3, dh);
  ARR(4, act);
  ARR(5, hPre);
  ARR(6, hPrev);
  BH(7);
  NEED(dxPre, 3 * bh);
  NEED(dhPre, 3 * bh);
  NEED(dhPrev, bh);
  NEED(dh, bh);
  NEED(act, 3 * bh);
  NEED(hPre, 3 * bh);
  NEED(hPrev, bh);
  ROWS(g_gruBackward, dxPre, dhPre, dhPrev, dh, act, hPre, hPrev);
  return NULL;
}

static napi_value js_gruRzForward(napi_env env, napi_callback_info info) {
  static const char *K = "gruRzForward";
  ARGS(7);
  ARR(0, act);
  ARR(1, rh);
  ARR(2, xPre);
  ARR(3, hPreRz);
  ARR(4, hPrev);
  BH(5);
  NEED(act, 3 * bh);
  NEED(rh, bh);
  NEED(xPre, 3 * bh);
  NEED(hPreRz, 2 * bh);
  NEED(hPrev, bh);
  ROWS(g_gruRzForward, act, rh, xPre, hPreRz, hPrev);
  return NULL;
}

static napi_value js_gruNForward(napi_env env, napi_callback_info info) {
  static const char *K = "gruNForward";
  ARGS(7);
  ARR(0, h);
  ARR(1, act);
  ARR(2, xPre);
  ARR(3, hn);
  ARR(4, hPrev);
  BH(5);
  NEED(h, bh);
  NEED(act, 3 * bh);
  NEED(xPre, 3 * bh);
  NEED(hn, bh);
  NEED(hPrev, bh);
  ROWS(g_gruNForward, h, act, xPre, hn, hPrev);
  return NULL;
}

static napi_value js_gruNBackward(napi_env env, napi_callback_info info) {
  static const char *K = "gruNBackward";
  ARGS(8);
  ARR(0, dxPre);
  ARR(1, dhn);
  ARR(2, dhPrev);
  ARR(3, dh);
  ARR(4, act);
  ARR(5, hPrev);
  BH(6);
  NEED(dxPre, 3 * bh);
  NEED(dhn, bh);
  NEED(dhPrev, bh);
  NEED(dh, bh);
  NEED(act, 3 * bh);
  NEED(hPrev, bh);
  ROWS(g_gruNBackward, dxPre, dhn, dhPrev, dh, act, hPrev);
  return NULL;
}

static napi_value js_gruRzBackward(napi_env env, napi_callback_info info) {
  static const char *K = "gruRzBackward";
  ARGS(8);
  ARR(0, dxPre);
  ARR(1, dhPreRz);
  ARR(2, dhPrev);
  ARR(3, drh);
  ARR(4, act);
  ARR(5, hPrev);
  BH(6);
  NEED(dxPre, 3 * bh);
  NEED(dhPreRz, 2 * bh);
  NEED(dhPrev, bh);
  NEED(drh, bh);
  NEED(act, 3 * bh);
  NEED(hPrev, bh);
  ROWS(g_gruRzBackward, dxPre, dhPreRz, dhPrev, drh, act, hPrev);
  return NULL;
}

// ---- softmax cross-entropy ----------------------------------------------------------------------

/**
 * softmaxCrossEntropy(dLogits, lossPerRow, logits, targets Int32Array, rows, cols): the float64
 * sum of the row losses. The TypeScript side checked everything; the lengths and the targets'
 * range are checked again here, as an index out of range would write outside dLogits.
 */
static napi_value js_softmaxCrossEntropy(napi_env env, napi_callback_info info) {
  static const char *K = "softmaxCrossEntropy";
  ARGS(6);
  ARR(0, dLogits);
  ARR(1, lossPerRow);
  ARR(2, logits);
  napi_typedarray_type type;
  size_t tn = 0;
  void *tp = NULL;
  bool is_ta = false;
  if (napi_is_typedarray(env, argv[3], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[3], &type, &tn, &tp, NULL, NULL) != napi_ok || type != napi_int32_array ||
      (tn > 0 && tp == NULL)) {
    napi_throw_type_error(env, NULL, "softmaxCrossEntropy: targets must be an attached Int32Array");
    return NULL;
  }
  INT(4, rows);
  INT(5, cols);
  if (cols == 0 && rows > 0) {
    napi_throw_range_error(env, NULL, "softmaxCrossEntropy: cols must be positive");
    return NULL;
  }
  NEED(dLogits, (double)rows * cols);
  NEED(lossPerRow, rows);
  NEED(logits, (double)rows * cols);
  const int *targets = tp;
  if ((double)tn != (double)rows) {
    napi_throw_range_error(env, NULL, "softmaxCrossEntropy: targets length must be rows");
    return NULL;
  }
  for (int r = 0; r < rows; r++) {
    if (targets[r] < 0 || targets[r] >= cols) {
      napi_throw_range_error(env, NULL, "softmaxCrossEntropy: a target is outside [0, cols)");
      return NULL;
    }
  }
  napi_value result;
  napi_create_double(env, isa->softmaxCE(dLogits.p, lossPerRow.p, logits.p, targets, rows, cols), &result);
  return result;
}

// ---- optimizer ----------------------------------------------------------------------------------

/**
 * adamUpdate(params, grads, m, v, stepSize, bc2Sqrt, beta1, beta2, eps, decay, l2): one Adam or
 * AdamW step in place (the four arrays of one length, checked again here).
 */
static napi_value js_adamUpdate(napi_env env, napi_callback_info info) {
  static const char *K = "adamUpdate";
  ARGS(11);
  ARR(0, params);
  ARR(1, grads);
  ARR(2, m);
  ARR(3, v);
  NEED(grads, params.n);
  NEED(m, params.n);
  NEED(v, params.n);
  double k[7];
  for (int i = 0; i < 7; i++) {
    if (!get_num(env, argv[4 + i], &k[i]) || !isfinite(k[i])) {
      napi_throw_range_error(env, NULL, "adamUpdate: the hyperparameters must be finite numbers");
      return NULL;
    }
  }
  isa->adam(params.p, grads.p, m.p, v.p, params.n, k);
  return NULL;
}

// ---- lstmSequence, gruSequence: a cell's forward over a window without a tape ----------------

/** The sequence kernels' workspace (x_t, h twice and c, transposed). */
static __thread scratch seq_buf;

/** dst[k·BP + b] = src[b·n + k] for the B rows of src [B × n]; dst's padding lanes untouched. */
static void to_lanes(float *dst, const float *src, int B, int n, int BP) {
  for (int b = 0; b < B; b++) {
    const float *r = src + (size_t)b * n;
    for (int k = 0; k < n; k++) dst[(size_t)k * BP + b] = r[k];
  }
}

/** dst[b·n + k] = src[k·BP + b]: the inverse of to_lanes for the real rows. */
static void from_lanes(float *dst, const float *src, int B, int n, int BP) {
  for (int b = 0; b < B; b++) {
    float *r = dst + (size_t)b * n;
    for (int k = 0; k < n; k++) r[k] = src[(size_t)k * BP + b];
  }
}

static void lstm_seq_task(void *c, int t) { isa->lstmSeq_task((const rx_seq *)c, t); }
static void gru_seq_task(void *c, int t) { isa->gruSeq_task((const rx_seq *)c, t); }

/**
 * lstmSequence(out, state, x, Wih, Whh, b, T, B, nX, H) and gruSequence(out, state, x, Wih, Whh,
 * b, bHn, T, B, nX, H): T steps over B rows from state ([h | c] [B × 2H] for the LSTM, h [B × H]
 * for the reset-after GRU, advanced in place) on x [T·B × nX]; h_t of every step into
 * out [T·B × H]. The steps run in order; each step's tasks (units × row groups) may share the pool.
 */
static napi_value sequence(napi_env env, napi_callback_info info, int gru) {
  const char *K = gru ? "gruSequence" : "lstmSequence";
  const int G = gru ? 3 : 4;
  ARGS(gru ? 11 : 10);
  ARR(0, out);
  ARR(1, state);
  ARR(2, x);
  ARR(3, Wih);
  ARR(4, Whh);
  ARR(5, b);
  f32 bHn = {NULL, 0};
  if (gru && !get_f32(env, K, "bHn", argv[6], &bHn)) return NULL;
  const int o = gru ? 7 : 6;
  INT(o, T);
  INT(o + 1, B);
  INT(o + 2, nX);
  INT(o + 3, H);
  const double g = (double)G * H;
  NEED(out, (double)T * B * H);
  NEED(state, (gru ? 1.0 : 2.0) * B * H);
  NEED(x, (double)T * B * nX);
  NEED(Wih, g * nX);
  NEED(Whh, g * H);
  NEED(b, g);
  if (gru) NEED(bHn, H);
  if (T == 0 || B == 0 || H == 0) return NULL;
  const int BP = (B + 15) / 16 * 16;
  const size_t floats = ((size_t)nX + 3 * (size_t)H) * BP;
  float *ws = grow(&seq_buf, floats);
  if (ws == NULL) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: out of memory for the workspace", K);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  memset(ws, 0, floats * 4);
  float *xT = ws, *hT = xT + (size_t)nX * BP, *hN = hT + (size_t)H * BP, *cT = hN + (size_t)H * BP;
  const size_t bh = (size_t)B * H;
  to_lanes(hT, state.p, B, H, BP);
  if (!gru) to_lanes(cT, state.p + bh, B, H, BP);
  rx_seq s = {Wih.p, Whh.p, b.p, bHn.p, xT, hT, hN, cT, NULL, nX, H, B, BP};
  const int tasks = isa->seq_tasks(H, BP);
  const int share = (double)B * g * ((double)nX + H) >= GEMM_SHARE_MACS;
  for (int t = 0; t < T; t++) {
    to_lanes(xT, x.p + (size_t)t * B * nX, B, nX, BP);
    s.out = out.p + (size_t)t * bh;
    parallel(gru ? gru_seq_task : lstm_seq_task, &s, tasks, share);
    float *h = (float *)s.hT;
    s.hT = s.hN;
    s.hN = h;
  }
  from_lanes(state.p, s.hT, B, H, BP);
  if (!gru) from_lanes(state.p + bh, cT, B, H, BP);
  return NULL;
}

static napi_value js_lstmSequence(napi_env env, napi_callback_info info) { return sequence(env, info, 0); }
static napi_value js_gruSequence(napi_env env, napi_callback_info info) { return sequence(env, info, 1); }

// ---- fused batch-1 steps ------------------------------------------------------------------------

typedef struct {
  float *out, *out2;
  const float *bias, *bias2, *Wih, *x, *Whh, *h;
  int nX, H, rows, split; /* split: GRU rows go to two outputs (xPre, hPre) */
} step_ctx;

#define STEP_ROWS 64

static void step_task(void *c, int t) {
  step_ctx *s = c;
  int r0 = t * STEP_ROWS, r1 = r0 + STEP_ROWS < s->rows ? r0 + STEP_ROWS : s->rows;
  if (!s->split) {
    isa->step_rows(s->out, s->bias, s->Wih, s->x, s->nX, s->Whh, s->h, s->H, r0, r1);
    return;
  }
  // GRU: xPre = b_ih + W_ih·x and hPre = b_hh + W_hh·h are separate sums.
  memcpy(s->out + r0, s->bias + r0, (size_t)(r1 - r0) * 4);
  if (s->nX > 0) isa->gemv_rows(s->out, s->Wih, s->x, r0, r1, s->nX, 1);
  memcpy(s->out2 + r0, s->bias2 + r0, (size_t)(r1 - r0) * 4);
  isa->gemv_rows(s->out2, s->Whh, s->h, r0, r1, s->H, 1);
}

static void run_step(step_ctx *s) {
  int mw = atomic_load(&step_min_weights);
  int share = mw > 0 && (double)s->rows * (s->nX + s->H) >= mw;
  parallel(step_task, s, (s->rows + STEP_ROWS - 1) / STEP_ROWS, share);
}

static napi_value js_lstmStep(napi_env env, napi_callback_info info) {
  static const char *K = "lstmStep";
  ARGS(10);
  ARR(0, h);
  ARR(1, c);
  ARR(2, act);
  ARR(3, pre);
  ARR(4, Wih);
  ARR(5, x);
  ARR(6, Whh);
  ARR(7, b);
  INT(8, nX);
  INT(9, H);
  double g = 4.0 * H;
  NEED(h, H);
  NEED(c, H);
  NEED(act, g);
  NEED(pre, g);
  NEED(Wih, g * nX);
  NEED(x, nX);
  NEED(Whh, g * H);
  NEED(b, g);
  step_ctx s = {pre.p, NULL, b.p, NULL, Wih.p, x.p, Whh.p, h.p, nX, H, 4 * H, 0};
  run_step(&s);
  isa->lstmForward(h.p, c.p, act.p, pre.p, c.p, 1, H);
  return NULL;
}

static napi_value js_gruStep(napi_env env, napi_callback_info info) {
  static const char *K = "gruStep";
  ARGS(11);
  ARR(0, h);
  ARR(1, act);
  ARR(2, xPre);
  ARR(3, hPre);
  ARR(4, Wih);
  ARR(5, x);
  ARR(6, Whh);
  ARR(7, bIh);
  ARR(8, bHh);
  INT(9, nX);
  INT(10, H);
  double g = 3.0 * H;
  NEED(h, H);
  NEED(act, g);
  NEED(xPre, g);
  NEED(hPre, g);
  NEED(Wih, g * nX);
  NEED(x, nX);
  NEED(Whh, g * H);
  NEED(bIh, g);
  NEED(bHh, g);
  step_ctx s = {xPre.p, hPre.p, bIh.p, bHh.p, Wih.p, x.p, Whh.p, h.p, nX, H, 3 * H, 1};
  run_step(&s);
  isa->gruForward(h.p, act.p, xPre.p, hPre.p, h.p, 1, H);
  return NULL;
}

static napi_value js_rnnStep(napi_env env, napi_callback_info info) {
  static const char *K = "rnnStep";
  ARGS(8);
  ARR(0, h);
  ARR(1, pre);
  ARR(2, Wih);
  ARR(3, x);
  ARR(4, Whh);
  ARR(5, b);
  INT(6, nX);
  INT(7, H);
  NEED(h, H);
  NEED(pre, H);
  NEED(Wih, (double)H * nX);
  NEED(x, nX);
  NEED(Whh, (double)H * H);
  NEED(b, H);
  step_ctx s = {pre.p, NULL, b.p, NULL, Wih.p, x.p, Whh.p, h.p, nX, H, H, 0};
  run_step(&s);
  isa->rnnForward(h.p, pre.p, 1, H);
  return NULL;
}

// ---- bound steps: the arrays of a streaming step, remembered per JS thread --------------------
// A streaming step passes the same eight or nine arrays every time. bindStep(slot, …arrays)
// checks and remembers their data pointers and lengths in a slot of the calling thread; then
// stepBound(slot, kind, nX, H) runs the step from them without looking the arrays up again. The
// caller (steps.ts) binds only arrays it keeps alive and checks their current lengths before every
// bound call (a detached or shrunk buffer has a length that no longer matches); an ArrayBuffer's
// data never moves while it is attached, so the pointers stay valid. Lengths are checked here too.

static napi_value make_int(napi_env env, double v);

#define SLOTS 16
#define SLOT_ARRAYS 9
static __thread float *slot_p[SLOTS][SLOT_ARRAYS];
static __thread size_t slot_n[SLOTS][SLOT_ARRAYS];
static __thread int slot_count[SLOTS];
static __thread double slot_token[SLOTS];
static __thread double next_token;

static napi_value js_bindStep(napi_env env, napi_callback_info info) {
  static const char *K = "bindStep";
  napi_value argv[MAXARGS];
  size_t argc = MAXARGS;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 7 || argc > 1 + SLOT_ARRAYS) {
    napi_throw_type_error(env, NULL, "bindStep: expected a slot and 6 to 9 arrays");
    return NULL;
  }
  INT(0, slot);
  if (slot >= SLOTS) {
    napi_throw_range_error(env, NULL, "bindStep: slot out of range");
    return NULL;
  }
  f32 a[SLOT_ARRAYS];
  int n = (int)argc - 1;
  for (int i = 0; i < n; i++)
    if (!get_f32(env, K, "array", argv[1 + i], &a[i])) return NULL;
  for (int i = 0; i < n; i++) {
    slot_p[slot][i] = a[i].p;
    slot_n[slot][i] = a[i].n;
  }
  slot_count[slot] = n;
  slot_token[slot] = ++next_token;
  return make_int(env, slot_token[slot]);
}

static int slot_need(napi_env env, int slot, int i, double expected) {
  if ((double)slot_n[slot][i] == expected) return 1;
  napi_throw_range_error(env, NULL, "stepBound: a bound array no longer has the length the dims need");
  return 0;
}

/**
 * stepBound(slot, token, kind 0 lstm | 1 gru | 2 rnn, nX, H): the fused step on the slot's arrays.
 * Returns false, doing nothing, when the slot holds another binding than `token` (bindStep's
 * result): the caller binds again.
 */
static napi_value js_stepBound(napi_env env, napi_callback_info info) {
  static const char *K = "stepBound";
  ARGS(5);
  INT(0, slot);
  double token;
  if (!get_num(env, argv[1], &token)) return NULL;
  INT(2, kind);
  INT(3, nX);
  INT(4, H);
  napi_value result;
  if (slot < SLOTS && slot_token[slot] != token) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  if (slot >= SLOTS || kind > 2 || slot_count[slot] != (kind == 0 ? 8 : kind == 1 ? 9 : 6)) {
    napi_throw_range_error(env, NULL, "stepBound: slot not bound for this kind of step");
    return NULL;
  }
  float **p = slot_p[slot];
  const double G = kind == 0 ? 4 : kind == 1 ? 3 : 1, g = G * H;
  if (kind == 0) {
    const double need_n[8] = {H, H, g, g, g * nX, nX, g * H, g};
    for (int i = 0; i < 8; i++)
      if (!slot_need(env, slot, i, need_n[i])) return NULL;
    step_ctx s = {p[3], NULL, p[7], NULL, p[4], p[5], p[6], p[0], nX, H, 4 * H, 0};
    run_step(&s);
    isa->lstmForward(p[0], p[1], p[2], p[3], p[1], 1, H);
  } else if (kind == 1) {
    const double need_n[9] = {H, g, g, g, g * nX, nX, g * H, g, g};
    for (int i = 0; i < 9; i++)
      if (!slot_need(env, slot, i, need_n[i])) return NULL;
    step_ctx s = {p[2], p[3], p[7], p[8], p[4], p[5], p[6], p[0], nX, H, 3 * H, 1};
    run_step(&s);
    isa->gruForward(p[0], p[1], p[2], p[3], p[0], 1, H);
  } else {
    const double need_n[6] = {H, H, g * nX, nX, g * H, g};
    for (int i = 0; i < 6; i++)
      if (!slot_need(env, slot, i, need_n[i])) return NULL;
    step_ctx s = {p[1], NULL, p[5], NULL, p[2], p[3], p[4], p[0], nX, H, H, 0};
    run_step(&s);
    isa->rnnForward(p[0], p[1], 1, H);
  }
  napi_get_boolean(env, true, &result);
  return result;
}

// ---- control and diagnostics --------------------------------------------------------------------

static napi_value make_int(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static void set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

static napi_value make_str(napi_env env, const char *s) {
  napi_value out;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out);
  return out;
}

/** info() → { isa, isaReason, available: string[], cpus, threads, stepMinWeights, jobs, shared, helperTasks, helpers } */
static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o, avail;
  napi_create_object(env, &o);
  napi_create_array(env, &avail);
  uint32_t n = 0;
#if defined(__x86_64__)
  if (has_avx512()) napi_set_element(env, avail, n++, make_str(env, "avx512"));
  if (has_avx2()) napi_set_element(env, avail, n++, make_str(env, "avx2"));
#endif
  napi_set_element(env, avail, n++, make_str(env, "portable"));
  set_prop(env, o, "isa", make_str(env, isa->name));
  set_prop(env, o, "isaReason", make_str(env, isa_reason));
  set_prop(env, o, "available", avail);
  set_prop(env, o, "cpus", make_int(env, cpus));
  set_prop(env, o, "threads", make_int(env, atomic_load(&budget)));
  set_prop(env, o, "stepMinWeights", make_int(env, atomic_load(&step_min_weights)));
  set_prop(env, o, "jobs", make_int(env, (double)atomic_load(&stat_jobs)));
  set_prop(env, o, "shared", make_int(env, (double)atomic_load(&stat_shared)));
  set_prop(env, o, "helperTasks", make_int(env, (double)atomic_load(&stat_helper_tasks)));
  set_prop(env, o, "helpers", make_int(env, helpers_started > 0 ? helpers_started : 0));
  return o;
}

/** setIsa(name): 'avx512' | 'avx2' | 'portable' | '' (best); false when this CPU lacks it. */
static napi_value js_setIsa(napi_env env, napi_callback_info info) {
  napi_value argv[MAXARGS];
  if (!get_args(env, info, argv, 1)) return NULL;
  char buf[32];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "setIsa: name must be a string");
    return NULL;
  }
  napi_value out;
  napi_get_boolean(env, choose_isa(buf), &out);
  return out;
}

/** setThreads(n): the process-wide budget of compute threads, 1 … cpus (clamped). */
static napi_value js_setThreads(napi_env env, napi_callback_info info) {
  static const char *K = "setThreads";
  ARGS(1);
  INT(0, n);
  if (n < 1) n = 1;
  if (n > cpus) n = cpus;
  atomic_store(&budget, n);
  return make_int(env, n);
}

/** setStepSharing(minWeights): batch-1 steps reading at least this many weights share rows; 0 never. */
static napi_value js_setStepSharing(napi_env env, napi_callback_info info) {
  static const char *K = "setStepSharing";
  ARGS(1);
  INT(0, n);
  atomic_store(&step_min_weights, n);
  return NULL;
}

/** address64(arr): the array's data address modulo 64 (aligned allocation). */
static napi_value js_address64(napi_env env, napi_callback_info info) {
  static const char *K = "address64";
  ARGS(1);
  ARR(0, a);
  return make_int(env, (double)((uintptr_t)a.p & 63));
}

static int count_cpus(void) {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_once(void) {
  cpus = count_cpus();
  if (cpus > MAX_HELPERS + 1) cpus = MAX_HELPERS + 1;
  int b = cpus < 8 ? cpus : 8;
  const char *t = getenv("RXRNN_THREADS");
  if (t != NULL && t[0] != 0) {
    char *end;
    long v = strtol(t, &end, 10);
    if (*end == 0 && v >= 1) b = v < cpus ? (int)v : cpus;
  }
  atomic_store(&budget, b);
  if (!choose_isa(getenv("RXRNN_NATIVE_ISA"))) choose_isa(NULL);
}

#define FNDEF(name) {#name, NULL, js_##name, NULL, NULL, NULL, napi_default, NULL}

NAPI_MODULE_INIT() {
  pthread_once(&once, init_once);
  napi_property_descriptor props[] = {
      FNDEF(gemv),          FNDEF(gemvT),        FNDEF(ger),          FNDEF(gemmABt),
      FNDEF(gemmAtB),       FNDEF(gemmAB),       FNDEF(rnnForward),   FNDEF(rnnBackward),
      FNDEF(lstmForward),   FNDEF(lstmBackward), FNDEF(gruForward),   FNDEF(gruBackward),
      FNDEF(gruRzForward),  FNDEF(gruNForward),  FNDEF(gruNBackward), FNDEF(gruRzBackward),
      FNDEF(lstmStep),      FNDEF(gruStep),      FNDEF(rnnStep),      FNDEF(info),
      FNDEF(setIsa),        FNDEF(setThreads),   FNDEF(setStepSharing), FNDEF(address64),
      FNDEF(bindStep),      FNDEF(stepBound),    FNDEF(softmaxCrossEntropy),
      FNDEF(adamUpdate),    FNDEF(lstmSequence),  FNDEF(gruSequence),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
