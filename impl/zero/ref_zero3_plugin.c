/* ref-zero3: the reference ZeRO stage 3 (zero.h, docs/zero.md). */
#include "zero.h"

ZERO_DEFINE_PLUGIN("ref-zero3", 3, "reference ZeRO stage 3 (CPU, MPI)", ZERO_BUG_NONE)
