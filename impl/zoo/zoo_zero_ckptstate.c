/* Zoo: a deliberately broken ZeRO stage 3. The bug: loading a checkpoint restores the parameters but leaves the optimizer state (momentum, AdamW's moments) freshly initialised. */
#include "zero.h"

ZERO_DEFINE_PLUGIN("zoo-zero-ckptstate", 3, "BROKEN on purpose: loading a checkpoint restores the parameters but re-initialises the optimizer state", ZERO_BUG_CKPT_STATE_RESET)
