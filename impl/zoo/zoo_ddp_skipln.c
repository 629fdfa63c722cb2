/* Zoo: a deliberately broken DDP. The bug: LayerNorm parameters are left out of the gradient reduction. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-skipln", "BROKEN on purpose: LayerNorm parameters left out of the gradient reduction", DDP_BUG_SKIP_LAYERNORM)
