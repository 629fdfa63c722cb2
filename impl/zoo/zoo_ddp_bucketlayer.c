/* Zoo: a deliberately broken DDP. The bug: a gradient bucket spanning two layers is reduced only over its top layer's tensors. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-bucketlayer", "BROKEN on purpose: a bucket spanning two layers reduced only over its top layer's tensors", DDP_BUG_BUCKET_TOP_LAYER)
