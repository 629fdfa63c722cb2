/* Zoo: a deliberately broken ZeRO-3. The bug: the forward's gather of the last block fetches the block below it. */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero3-wrongblock", 3, "BROKEN on purpose: the forward gathers the block below in place of the last block", ZERO_BUG_WRONG_BLOCK)
