/* Zoo: a deliberately broken ZeRO stage 3. The bug: room for every layer's gathered parameters at once, beside the d+1 slots it declares. */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero3-gatherall", 3, "BROKEN on purpose: keeps room for every layer's gathered parameters at once, not d+1 layers", ZERO_BUG_GATHER_ALL)
