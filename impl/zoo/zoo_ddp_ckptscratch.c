/* Zoo: a deliberately broken DDP. The bug: saving a checkpoint leaves the momentum (AdamW's m) of every rank but 0 zeroed: the checkpoint is right, the ranks' training after it diverges. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-ckptscratch", "BROKEN on purpose: saving a checkpoint zeroes the momentum of every rank but 0", DDP_BUG_CKPT_SCRATCH)
