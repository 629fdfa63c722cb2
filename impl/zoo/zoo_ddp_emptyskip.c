/* Zoo: a deliberately broken DDP. The bug: a rank with nothing to compute in a step returns before the step's collectives, and the world hangs. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-emptyskip", "BROKEN on purpose: a rank whose share of a step is empty skips the step's collectives", DDP_BUG_EMPTY_SKIP)
