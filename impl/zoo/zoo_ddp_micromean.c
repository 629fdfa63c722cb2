/* Zoo: a deliberately broken DDP. The bug: each micro-batch averaged over its own samples, then over the micro-batches (right only for equal micro-batches). */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-micromean", "BROKEN on purpose: each micro-batch's gradient averaged over its own samples, then over the micro-batches", DDP_BUG_MICRO_MEAN)
