/* Zoo: a deliberately broken DDP. The bug: gradient accumulator reset each micro-batch: only the last one counts. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-lastmicro", "BROKEN on purpose: gradient accumulator reset each micro-batch: only the last one counts", DDP_BUG_LAST_MICRO_ONLY)
