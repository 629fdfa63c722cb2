/* Zoo: a deliberately broken ZeRO stage 2. The bug: clip norm from this rank's gradient shard only, never reduced. */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero-localclip", 2, "BROKEN on purpose: clip norm from this rank's gradient shard only, never reduced", ZERO_BUG_LOCAL_CLIP)
