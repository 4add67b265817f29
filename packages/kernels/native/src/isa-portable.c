// The portable path: 4 lanes in the baseline vector unit of the target (SSE2 on x86-64, NEON on
// arm64). Everything else falls back to it.
#define VW 4
#define DR 4
#define DC 3
#define MR 6
#define MR2 6
#define MR1 12
#define NV 2
#define SUFFIX _portable
#define ISA_NAME "portable"
#include "kernels-impl.h"
