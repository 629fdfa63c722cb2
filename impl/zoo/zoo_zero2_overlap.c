/* Zoo: a deliberately broken ZeRO stage 2. The bug: a bucket refilled before its reduce-scatter completed. */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero2-overlap", 2, "BROKEN on purpose: a bucket refilled before its reduce-scatter completed", ZERO_BUG_BUCKET_REUSE)
