/* Zoo: a deliberately broken ZeRO stage 2. The bug: its checkpoint holds the whole parameters but only rank 0's shard of the optimizer state (the other ranks save nothing). */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero-ckptshard", 2, "BROKEN on purpose: checkpoints hold the whole parameters but only rank 0's shard of the optimizer state", ZERO_BUG_CKPT_OWN_SHARD)
