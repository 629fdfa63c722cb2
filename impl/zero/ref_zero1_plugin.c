/* ref-zero1: the reference ZeRO stage 1 (zero.h, docs/zero.md). */
#include "zero.h"

ZERO_DEFINE_PLUGIN("ref-zero1", 1, "reference ZeRO stage 1 (CPU, MPI)", ZERO_BUG_NONE)
