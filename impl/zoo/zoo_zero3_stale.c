/* Zoo: a deliberately broken ZeRO stage 3. The bug: the backward reuses the parameters gathered at step 1, never re-gathered after an optimizer step. */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero3-stale", 3, "BROKEN on purpose: the backward reuses the parameters gathered at step 1, never re-gathered after an optimizer step", ZERO_BUG_STALE_PARAMS)
