"""PyTorch DDP + ZeroRedundancyOptimizer (ZeRO-1) as a dtbench implementation.

DDP averages the gradients (allreduce); ZeroRedundancyOptimizer keeps the
optimizer state of its share of the parameters only, updates them and
broadcasts them to the other ranks. Its partition is by whole tensors
(greedy by size), not by elements: a legitimate ZeRO-1 that holds more
than K·Ψ/N optimizer bytes on a rank when a few tensors dominate, which
the memory check reports as such. bf16-mixed as in torch_ddp.py. One rank
runs the bare module and torch.optim: nothing to shard or average.
"""

import torch
from torch.distributed.optim import ZeroRedundancyOptimizer

import dtbench
from dtbench import torch_dist, torch_mlp
from dtbench.torch_peer import destroy, get_compute_params, get_params, peer_state, train_step  # noqa: F401
from dtbench.torch_peer import facts

NAME = "torch-zero1"
VERSION = f"torch {torch.__version__}"
DESCRIPTION = "PyTorch DDP + ZeroRedundancyOptimizer (ZeRO-1; Python bridge)"
CAPS = ["zero1", "fp32", "bf16-mixed", "sgd-momentum", "adamw", "grad-clip", "grad-accum",
        "uneven-batch", "model-mlp", "cpu"]


def create(spec, host):
    if spec.stage != dtbench.STAGE_ZERO1:
        raise ValueError(f"{NAME} runs ZeRO-1 only (asked stage {spec.stage})")
    torch_dist.init_process_group(spec)
    module = torch_mlp.build(spec, host)
    groups = torch_mlp.param_groups(spec, torch_mlp.canonical_params(module))
    opt_class, opt_kwargs = torch_mlp.optimizer_class(spec)
    if spec.world_size == 1:
        return peer_state(spec, host, module, module, opt_class(groups, **opt_kwargs))
    kwargs = {}
    if spec.bucket_bytes > 0:
        kwargs["bucket_cap_mb"] = spec.bucket_bytes / (1024 * 1024)
    model = torch.nn.parallel.DistributedDataParallel(module, **kwargs)
    opt = ZeroRedundancyOptimizer(groups, optimizer_class=opt_class, **opt_kwargs)
    return peer_state(spec, host, module, model, opt, no_sync=model.no_sync)


def get_facts(s):
    bucket = int(s.model.bucket_bytes_cap) if s.spec.world_size > 1 else 0
    return facts(s, dtbench.STAGE_ZERO1, bucket)
