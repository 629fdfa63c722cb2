/* Zoo: a deliberately broken ZeRO stage 2. The bug: gradient accumulation across micro-batches rounded to bf16. */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero-bf16acc", 2, "BROKEN on purpose: gradient accumulation across micro-batches rounded to bf16", ZERO_BUG_BF16_ACCUM)
