/* ref-zero2: the reference ZeRO stage 2 (zero.h, docs/zero.md). */
#include "zero.h"

ZERO_DEFINE_PLUGIN("ref-zero2", 2, "reference ZeRO stage 2 (CPU, MPI)", ZERO_BUG_NONE)
