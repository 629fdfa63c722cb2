"""torch_ddp with PyTorch's usual loss: each rank's mean over its own
samples (divided by the micro-batches), averaged over ranks by DDP. Right
only when every rank gets the same number of samples in every micro-batch;
when N does not divide them it weights samples unequally, and dtbench's
suites must fail it (tests/python/peer.sh asserts they do)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ddp import *  # noqa: E402,F401,F403
import torch_ddp  # noqa: E402

NAME = "torch-ddp-mean"
DESCRIPTION = "PyTorch DDP with the per-rank mean loss (wrong when N does not divide the batch)"
torch_ddp.MEAN_OVER_RANK = True
