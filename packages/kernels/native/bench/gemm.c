// GEMM yardstick of the native kernels against a system OpenBLAS (when libopenblas.so.0 loads) and
// the FMA peak of one core, timed in thread CPU time so that other processes on a shared machine
// do not count. Single thread. Prints GFLOP/s per form, three rounds:
//   gcc -O2 -I packages/kernels/native/src -o /tmp/rx-gemm packages/kernels/native/bench/gemm.c
//     packages/kernels/native/src/isa-*.c -ldl -lm -pthread && /tmp/rx-gemm 1024 1024 1024 [avx512|avx2|portable]
// `/tmp/rx-gemm peak2` runs the FMA peak loop alone and on two threads at once; `/tmp/rx-gemm read`
// times one core reading 0.3–4 MiB once (the memory floor of a batch-1 step).
// (Debian: apt-get install libopenblas0-pthread for the OpenBLAS columns.)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels.h"

static double cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
/** 12 independent FMA chains of 16 lanes: the AVX-512 FMA peak of one core. */
__attribute__((target("avx512f,fma"))) static float peak(long n) {
  __m512 a[12];
  for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(i * 0.001f);
  __m512 x = _mm512_set1_ps(0.9999f), y = _mm512_set1_ps(0.0001f);
  for (long i = 0; i < n; i++) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; j++) a[j] = _mm512_fmadd_ps(a[j], x, y);
  }
  __m512 s = a[0];
  for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}
#endif

#if defined(__x86_64__)
#include <pthread.h>
static double peak_rate[2];
static void *peak_thread(void *arg) {
  long n = 30000000;
  double t = cpu();
  volatile float v = peak(n);
  (void)v;
  peak_rate[(long)arg] = n * 384 / (cpu() - t) / 1e9;
  return NULL;
}
/** `rx-gemm peak2`: the FMA loop on one thread, then on two at once (do the vCPUs share units?). */
static int peak2(void) {
  for (int round = 0; round < 3; round++) {
    peak_thread((void *)0);
    printf("alone %.0f GFLOP/s per thread-CPU-second   ", peak_rate[0]);
    pthread_t a, b;
    pthread_create(&a, NULL, peak_thread, (void *)0);
    pthread_create(&b, NULL, peak_thread, (void *)1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("together %.0f + %.0f\n", peak_rate[0], peak_rate[1]);
  }
  return 0;
}
#endif

/** `rx-gemm small [isa]`: A·Bᵀ GFLOP/s for M = 1…16 rows (a keyed batch) against N 1024 rows of Bm. */
static int small(const rx_isa *isa) {
  const int N = 1024, KMAX = 512;
  float *A = malloc(4L * 16 * KMAX), *B = malloc(4L * N * KMAX), *C = malloc(4L * 16 * N);
  float *ws = malloc(4 * isa->gemmABt_packSize(16, KMAX) + 64);
  for (long i = 0; i < 16L * KMAX; i++) A[i] = rand() / (float)RAND_MAX - 0.5f;
  for (long i = 0; i < (long)N * KMAX; i++) B[i] = rand() / (float)RAND_MAX - 0.5f;
  const int Ks[3] = {64, 256, 512};
  printf("%s A·Bᵀ, N %d, GFLOP/s per thread-CPU-second by M\n", isa->name, N);
  for (int ki = 0; ki < 3; ki++) {
    const int K = Ks[ki];
    printf("K %3d:", K);
    for (int M = 1; M <= 16; M++) {
      rx_gemm_args g = {C, A, B, M, N, K, 0, 0, ws};
      int it = 0;
      double t = cpu();
      do {
        isa->gemmABt_pack(&g);
        for (int i = 0, nt = isa->gemmABt_tasks(M, N); i < nt; i++) isa->gemmABt_task(&g, i);
        it++;
      } while (cpu() - t < 0.2);
      printf(" %d:%.0f", M, 2.0 * M * N * K * it / (cpu() - t) / 1e9);
    }
    printf("\n");
  }
  return 0;
}

#if defined(__x86_64__)
/** One pass of 512-bit loads over n floats (8 independent sums), nothing else. */
__attribute__((target("avx512f"))) static float read_pass(const float *p, size_t n) {
  __m512 a[8];
  for (int j = 0; j < 8; j++) a[j] = _mm512_setzero_ps();
  for (size_t i = 0; i + 128 <= n; i += 128)
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) a[j] = _mm512_add_ps(a[j], _mm512_load_ps(p + i + 16 * j));
  for (int j = 1; j < 8; j++) a[0] = _mm512_add_ps(a[0], a[j]);
  return _mm512_reduce_add_ps(a[0]);
}

/**
 * `rx-gemm read`: how long one core takes just to read a batch-1 step's weights once, as a floor
 * for that step: 320 KiB (the 256×320 gemv of `bench kernels`, inside L2), 1 MiB, the 1.31 MB of
 * LSTM-256 with n_x 64 (4·256·(64 + 256) floats: past this core's 1 MiB L2), 4 MiB. Best pass of
 * 20 × 2000.
 */
static int read_floor(void) {
  const size_t sizes[4] = {327680, 1048576, 1310720, 4194304};
  for (int s = 0; s < 4; s++) {
    const size_t n = sizes[s] / 4;
    float *p = aligned_alloc(64, sizes[s]);
    for (size_t i = 0; i < n; i++) p[i] = 1.0f;
    volatile float sink = 0;
    for (int w = 0; w < 200; w++) sink += read_pass(p, n);
    double best = 1e9;
    for (int r = 0; r < 20; r++) {
      const int it = 2000;
      const double t = cpu();
      for (int i = 0; i < it; i++) sink += read_pass(p, n);
      const double dt = (cpu() - t) / it;
      if (dt < best) best = dt;
    }
    printf("%8zu bytes: %.2f us per pass, %.1f GB/s\n", sizes[s], best * 1e6, sizes[s] / best / 1e9);
    free(p);
  }
  return 0;
}
#endif

typedef void (*sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                        int);

int main(int argc, char **argv) {
#if defined(__x86_64__)
  if (argc == 2 && strcmp(argv[1], "peak2") == 0) return peak2();
  if (argc == 2 && strcmp(argv[1], "read") == 0) return read_floor();
#endif
  if (argc >= 2 && strcmp(argv[1], "small") == 0) {
    const rx_isa *isa = &rx_isa_portable;
#if defined(__x86_64__)
    isa = &rx_isa_avx512;
    if (argc > 2 && strcmp(argv[2], "avx2") == 0) isa = &rx_isa_avx2;
    if (argc > 2 && strcmp(argv[2], "portable") == 0) isa = &rx_isa_portable;
#endif
    return small(isa);
  }
  if (argc < 4) {
    fprintf(stderr, "usage: %s M N K [avx512|avx2|portable] | peak2 | small [isa] | read\n", argv[0]);
    return 2;
  }
  const int M = atoi(argv[1]), N = atoi(argv[2]), K = atoi(argv[3]);
  const rx_isa *isa = &rx_isa_portable;
#if defined(__x86_64__)
  isa = &rx_isa_avx512;
  if (argc > 4 && strcmp(argv[4], "avx2") == 0) isa = &rx_isa_avx2;
  if (argc > 4 && strcmp(argv[4], "portable") == 0) isa = &rx_isa_portable;
#endif
  float *A = malloc(4L * M * K), *B = malloc(4L * N * K), *C = malloc(4L * M * N);
  float *ws = malloc(4 * isa->gemmABt_packSize(M, K));
  for (long i = 0; i < (long)M * K; i++) A[i] = rand() / (float)RAND_MAX - 0.5f;
  for (long i = 0; i < (long)N * K; i++) B[i] = rand() / (float)RAND_MAX - 0.5f;
  void *h = dlopen("libopenblas.so.0", RTLD_NOW);
  sgemm_t sg = h ? (sgemm_t)dlsym(h, "cblas_sgemm") : NULL;
  void (*threads)(int) = h ? (void (*)(int))dlsym(h, "openblas_set_num_threads") : NULL;
  if (threads) threads(1);
  printf("%s %dx%dx%d, GFLOP/s per thread-CPU-second, one thread\n", isa->name, M, N, K);
  const char *names[3] = {"ABt", "AtB", "AB"};
  for (int round = 0; round < 3; round++) {
    double t;
#if defined(__x86_64__)
    t = cpu();
    long n = 20000000;
    volatile float v = peak(n);
    (void)v;
    printf("peak %.1f  ", n * 384 / (cpu() - t) / 1e9);
#endif
    for (int kind = 0; kind < 3; kind++) {
      rx_gemm_args g = {C, A, B, M, N, K, 0, kind == 1, ws};
      int it = 0;
      t = cpu();
      do {
        if (kind == 0) {
          isa->gemmABt_pack(&g);
          for (int i = 0, nt = isa->gemmABt_tasks(M, N); i < nt; i++) isa->gemmABt_task(&g, i);
        } else {
          for (int i = 0, nt = isa->gemmBc_tasks(M, N); i < nt; i++) isa->gemmBc_task(&g, i);
        }
        it++;
      } while (cpu() - t < 0.5);
      printf("%s %.1f  ", names[kind], 2.0 * M * N * K * it / (cpu() - t) / 1e9);
    }
    if (sg) {
      for (int kind = 0; kind < 3; kind++) {
        int it = 0;
        t = cpu();
        do {  // row-major (101); 111 no transpose, 112 transpose
          if (kind == 0)
            sg(101, 111, 112, M, N, K, 1, A, K, B, K, 0, C, N);
          else if (kind == 1)
            sg(101, 112, 111, M, N, K, 1, A, M, B, N, 0, C, N);
          else
            sg(101, 111, 111, M, N, K, 1, A, K, B, N, 0, C, N);
          it++;
        } while (cpu() - t < 0.5);
        printf("openblas-%s %.1f  ", names[kind], 2.0 * M * N * K * it / (cpu() - t) / 1e9);
      }
    }
    printf("\n");
  }
  return 0;
}
