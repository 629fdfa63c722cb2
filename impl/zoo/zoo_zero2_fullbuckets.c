/* Zoo: a deliberately broken ZeRO stage 2. The bug: reduce-scatter buckets sized to the whole model (correct results, ZeRO-2's memory saving gone). */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero2-fullbuckets", 2, "BROKEN on purpose: reduce-scatter buckets sized to the whole model, not a unit", ZERO_BUG_FULL_BUCKETS)
