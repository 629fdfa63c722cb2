/* Zoo: a deliberately broken ZeRO stage 1. The bug: gradients placed after each unit's padding, parameters before it: shard boundaries shifted by the padding. */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero-pad", 1, "BROKEN on purpose: gradients placed after each unit's padding, parameters before it: shard boundaries shifted by the padding", ZERO_BUG_PADDING)
