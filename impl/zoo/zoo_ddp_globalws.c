/* Zoo: a deliberately broken DDP. The bug: an activation workspace sized for the global batch instead of the rank's share (correct results, memory wasted). */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-globalws", "BROKEN on purpose: activation workspace sized for the global batch, not the rank's share", DDP_BUG_GLOBAL_WORKSPACE)
