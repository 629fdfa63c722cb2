/* Zoo: a deliberately broken DDP. The bug: sums gradients instead of averaging (each rank averages locally, ranks summed). */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-sum", "BROKEN on purpose: sums gradients instead of averaging (each rank averages locally, ranks summed)", DDP_BUG_SUM_NOT_AVERAGE)
