/* Zoo: a deliberately broken DDP. The bug: the tied embedding's gradient is reduced twice, once after the head's share and again with its bucket. */
#include "ddp.h"

DDP_DEFINE_PLUGIN("zoo-ddp-tiedtwice", "BROKEN on purpose: the tied embedding's gradient reduced twice (after the head's share, and with its bucket)", DDP_BUG_TIED_TWICE)
