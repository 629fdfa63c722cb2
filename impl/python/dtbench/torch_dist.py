"""torch.distributed for the rank world, through a counting process group.

init_process_group(spec) starts torch.distributed with this rank's rank and
world size: rank 0 opens a TCPStore on an ephemeral port of the loopback
address, the bridge broadcasts the port over the harness's MPI communicator
(uncounted plumbing), every rank joins, and the default group is a
CountingGroup around gloo (CPU) or NCCL (CUDA). Every collective any layer
issues through it (DDP's reducer, ZeroRedundancyOptimizer, FSDP, a module's
own dist.all_reduce) is counted in nccl-tests' sizes: allreduce, broadcast
and reduce the buffer, allgather the whole output, reduce-scatter the whole
input, p2p the bytes sent, barrier calls only.
"""

from datetime import timedelta

import torch
import torch.distributed as dist
from torch._C import _distributed_c10d as c10d

import _dtbench_host

from . import counting

BACKEND = "dtbench"
TIMEOUT = timedelta(seconds=120)


def _nbytes(tensors):
    return sum(t.numel() * t.element_size() for t in tensors)


class CountingGroup(dist.ProcessGroup):
    """A process group that counts each collective and hands it to `inner`."""

    def __init__(self, inner):
        super().__init__(inner.rank(), inner.size())
        self.inner = inner

    def getBackendName(self):
        return BACKEND

    def name(self):
        return BACKEND

    @property
    def group_name(self):
        return getattr(self.inner, "group_name", BACKEND)

    def allreduce(self, tensors, opts=None):
        counting.add("allreduce", _nbytes(tensors))
        return self.inner.allreduce(tensors, opts or c10d.AllreduceOptions())

    def allreduce_coalesced(self, tensors, opts=None):
        counting.add("allreduce", _nbytes(tensors))
        return self.inner.allreduce_coalesced(tensors, opts or c10d.AllreduceCoalescedOptions())

    def broadcast(self, tensors, opts=None):
        counting.add("broadcast", _nbytes(tensors))
        return self.inner.broadcast(tensors, opts or c10d.BroadcastOptions())

    def reduce(self, tensors, opts=None):
        counting.add("reduce", _nbytes(tensors))
        return self.inner.reduce(tensors, opts or c10d.ReduceOptions())

    def allgather(self, output_lists, input_tensors, opts=None):
        counting.add("allgather", sum(_nbytes(o) for o in output_lists))
        return self.inner.allgather(output_lists, input_tensors, opts or c10d.AllgatherOptions())

    def _allgather_base(self, output, input, opts=None):
        counting.add("allgather", _nbytes([output]))
        return self.inner._allgather_base(output, input, opts or c10d.AllgatherOptions())

    def reduce_scatter(self, outputs, input_lists, opts=None):
        counting.add("reduce_scatter", sum(_nbytes(i) for i in input_lists))
        return self.inner.reduce_scatter(outputs, input_lists, opts or c10d.ReduceScatterOptions())

    def _reduce_scatter_base(self, output, input, opts=None):
        counting.add("reduce_scatter", _nbytes([input]))
        return self.inner._reduce_scatter_base(output, input, opts or c10d.ReduceScatterOptions())

    def barrier(self, opts=None):
        counting.add("barrier", 0)
        return self.inner.barrier(opts or c10d.BarrierOptions())

    def send(self, tensors, dst, tag=0):
        counting.add("p2p", _nbytes(tensors))
        return self.inner.send(tensors, dst, tag)

    def recv(self, tensors, src, tag=0):
        return self.inner.recv(tensors, src, tag)


_group = None


def init_process_group(spec):
    """The default torch.distributed group for this rank world (idempotent)."""
    global _group
    if _group is not None:
        return _group
    n, rank = spec.world_size, spec.rank
    if rank == 0:
        store = dist.TCPStore("127.0.0.1", 0, n, True, TIMEOUT, wait_for_workers=False)
        port = store.port
    else:
        port = None
    if n > 1:
        port = _dtbench_host.bcast_int64(spec.mpi_comm_fortran, port if rank == 0 else 0)
    if rank != 0:
        store = dist.TCPStore("127.0.0.1", port, n, False, TIMEOUT)
    cuda = spec.device_kind == 1
    if cuda:
        torch.cuda.set_device(spec.device_index)
        inner = dist.ProcessGroupNCCL(store, rank, n)
    else:
        inner = dist.ProcessGroupGloo(store, rank, n, TIMEOUT)
    _group = CountingGroup(inner)
    if BACKEND not in dist.Backend.backend_list:
        dist.Backend.register_backend(BACKEND, lambda *args, **kwargs: _group,
                                      devices=["cuda"] if cuda else ["cpu"])
    dist.init_process_group(BACKEND, store=store, rank=rank, world_size=n, timeout=TIMEOUT)
    _group._store = store  # the store lives as long as the group
    return _group


def destroy_process_group():
    global _group
    if _group is not None and dist.is_initialized():
        dist.destroy_process_group()
    _group = None
