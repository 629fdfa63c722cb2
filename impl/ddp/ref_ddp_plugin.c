/* The reference DDP plugin, ref-ddp. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("ref-ddp",
                  "reference DDP: bucketed non-blocking allreduce overlapping backward",
                  DDP_BUG_NONE)
