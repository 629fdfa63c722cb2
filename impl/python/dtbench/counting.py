"""What the bridge measures: the collectives a module issues through
torch.distributed, counted by dtbench.torch_dist's process group, in
nccl-tests' sizes (include/dtbench/plugin.h, dtb_counters), only inside
create and train_step (the window the harness counts MPI in)."""

import contextlib

from .abi import Counters

_counters = Counters()
_on = False


@contextlib.contextmanager
def window():
    global _on
    _on = True
    try:
        yield
    finally:
        _on = False


def add(kind, nbytes):
    if _on:
        _counters.add(kind, nbytes)


def measured():
    return Counters(list(_counters.calls), list(_counters.bytes))
