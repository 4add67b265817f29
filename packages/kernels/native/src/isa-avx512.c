// AVX-512 (F, BW, DQ, VL) with FMA: 16 lanes, 32 registers. Chosen at load when the CPU and the OS
// (XCR0 saves the ZMM state) support it.
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2")
#define VW 16
#define DR 4
#define DC 4
#define MR 8
#define MR2 12
#define MR1 16
#define NV 3
#define SUFFIX _avx512
#define ISA_NAME "avx512"
#include "kernels-impl.h"
#endif
