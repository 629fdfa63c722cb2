/* Zoo: a deliberately broken ZeRO stage 1. The bug: loading a checkpoint restarts the optimizer's step counter at 0 (AdamW's bias correction starts over). */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero-ckptstep", 1, "BROKEN on purpose: loading a checkpoint restarts the optimizer's step counter at 0", ZERO_BUG_CKPT_STEP_RESET)
