// AVX2 with FMA: 8 lanes, 16 registers. Chosen at load on x86-64 CPUs without usable AVX-512.
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,bmi2")
#define VW 8
#define DR 4
#define DC 3
#define MR 6
#define MR2 6
#define MR1 12
#define NV 2
#define SUFFIX _avx2
#define ISA_NAME "avx2"
#include "kernels-impl.h"
#endif
