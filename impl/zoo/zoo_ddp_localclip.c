/* Zoo: a deliberately broken DDP. The bug: clips by each rank's local gradient norm before the reduction. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-localclip", "BROKEN on purpose: clips by each rank's local gradient norm before the reduction", DDP_BUG_LOCAL_CLIP)
