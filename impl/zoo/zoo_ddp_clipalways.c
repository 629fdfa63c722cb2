/* Zoo: a deliberately broken DDP. The bug: the gradient scaled by clip / (norm + 1e-6) at every step, also below the threshold. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-clipalways", "BROKEN on purpose: scales the gradient by clip / norm at every step, also below the threshold", DDP_BUG_CLIP_ALWAYS)
